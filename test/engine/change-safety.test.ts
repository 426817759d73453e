/**
 * Issue 12, "Change safety": each test here failed on the code before the fix.
 * - simulation replays with the candidate's own parameters (overlays in force at decision time excepted);
 * - an activation or overlay made through another store handle decides here after one poll, and what `list()`
 *   reports is what decides;
 * - overlays are declared, typed and bounded;
 * - strategy versions, activations and overlay changes are ledger entries written with the change.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Decision, DecisionContext, Outcome } from '../../src/domain/decision.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import type { EngineService } from '../../src/engine/index.js';
import { openEngine } from '../../src/app/engine.js';
import { recordDecision } from '../../src/store/index.js';
import type { StrategyDocument } from '../../src/engine/types.js';
import { formatReport } from '../../src/cli/commands/strategy.js';
import { TEST_DATABASE_URL, TEST_FIELD_CRYPTO } from '../helpers/stores.js';
import { applicationScorecard, gateStrategy, OTHER_SCORED_CHARACTERISTICS } from './fixtures.js';

const T0 = Date.UTC(2025, 5, 1);

/** Kysely's migrator sees migration tables in every schema: leave none behind (as service.test.ts does). */
async function dropSchema(url: string): Promise<void> {
  const schema = /search_path=([a-z0-9_]+)/.exec(decodeURIComponent(url))?.[1];
  if (!schema) return;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}
const models = (id: string) => (id === applicationScorecard.id ? applicationScorecard : undefined);

/** Two handles on one database, as two processes have: a fresh SQLite file, or one PostgreSQL schema. */
interface Backend {
  readonly name: string;
  readonly enabled: boolean;
  open(): Promise<{ first: Store; second: Store; cleanup?: () => Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'a SQLite file',
    enabled: true,
    async open() {
      const path = join(mkdtempSync(join(tmpdir(), 'lg-change-')), 'lineguard.db');
      const first = await openStore({ sqlitePath: path });
      return { first, second: await openStore({ sqlitePath: path }) };
    },
  },
  {
    name: 'PostgreSQL',
    enabled: Boolean(TEST_DATABASE_URL),
    async open() {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'engine_change');
      const first = await openStore({ postgresUrl: url });
      const second = await openStore({ postgresUrl: url, migrate: false });
      return { first, second, cleanup: () => dropSchema(url) };
    },
  },
];

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`change safety on ${backend.name}`, () => {
    let stores: Awaited<ReturnType<Backend['open']>>;
    let here: EngineService;
    let there: EngineService;
    const clock = new ManualClock(T0);
    const ids = uuidv7Generator(clock, seededRandom(12));

    beforeAll(async () => {
      stores = await backend.open();
      here = await openEngine({ store: stores.first, crypto: TEST_FIELD_CRYPTO, clock, ids, models });
      there = await openEngine({ store: stores.second, crypto: TEST_FIELD_CRYPTO, clock, ids, models });
    });
    afterAll(async () => {
      await stores?.second.close();
      await stores?.first.close();
      await stores?.cleanup?.();
    });

    it('simulation uses the candidate’s parameters and matches the activated candidate 100%', async () => {
      // An overlay in force while the stored decisions were made: the replay must keep it.
      await here.setOverlay('limitMultiplier', 0.5, 'risk-lead');
      clock.advance(1000);
      const from = clock.now();
      const random = seededRandom(2025);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random.next() * xs.length)] as T;
      const stored: { id: string; subject: string; context: DecisionContext; before: Outcome }[] = [];
      for (let i = 0; i < 80; i++) {
        const context = {
          age: 20 + Math.floor(random.next() * 40),
          monthlyIncomeMinor: 300_000 + Math.floor(random.next() * 2_000_000),
          CheckingAccountStatus: pick(['lt.0', '0.to.200', 'gt.200', 'none']),
          CreditHistory: pick(['Critical', 'Delay', 'PaidDuly', 'NoCredit.AllPaid']),
          Duration: pick([6, 12, 24, 36, 48]),
          ...OTHER_SCORED_CHARACTERISTICS,
        };
        const decision = here.decide('application', context, { subjectKey: `b-${i}` });
        const id = ids.next();
        await stores.first.transaction((tx) =>
          recordDecision(
            tx,
            {
              id,
              kind: 'application',
              borrowerId: `b-${i}`,
              subjectKey: `b-${i}`,
              context,
              decision,
              latencyMs: 0,
              decidedAt: clock.now(),
            },
            TEST_FIELD_CRYPTO,
          ),
        );
        stored.push({ id, subject: `b-${i}`, context, before: decision.outcome });
        clock.advance(10);
      }
      const to = clock.now() + 1;

      // The candidate raises the cut-off (a parameter default) and changes limitMultiplier's default, which the
      // overlay in force overrides.
      const live = (await here.getVersion('application', 1)).document;
      const candidate: StrategyDocument = {
        ...live,
        params: {
          ...live.params,
          cutoffScore: { default: 560 },
          limitMultiplier: { default: 0.8 },
        },
      };
      const report = await here.simulate(candidate, { from, to });
      expect(formatReport(report)).toContain('parameter cutoffScore: 500 -> 560');
      expect(report.decisions).toBe(80);
      expect(report.changed).toBeGreaterThan(0);
      expect(report.parameterChanges).toEqual([
        { name: 'cutoffScore', before: 500, after: 560, overlaidReplays: 0 },
        { name: 'limitMultiplier', before: 1, after: 0.8, overlaidReplays: 80 },
      ]);

      const saved = await here.saveVersion(candidate, 'risk-lead');
      await here.activate('application', saved.version, 'risk-lead');
      const matrix = new Map<string, number>();
      let approved = 0;
      let limitTotal = 0;
      const newlyDeclined: string[] = [];
      for (const s of stored) {
        const after = here.decide('application', s.context, { subjectKey: s.subject });
        expect(after.strategyVersion).toBe(saved.version);
        const key = `${s.before}->${after.outcome}`;
        matrix.set(key, (matrix.get(key) ?? 0) + 1);
        if (after.outcome === 'APPROVE') approved++;
        limitTotal += after.limitMinor ?? 0;
        if (after.outcome === 'DECLINE' && s.before !== 'DECLINE') newlyDeclined.push(s.id);
      }
      const simulated = new Map<string, number>();
      for (const [before, row] of Object.entries(report.outcomeMatrix))
        for (const [after, n] of Object.entries(row)) if (n > 0) simulated.set(`${before}->${after}`, n);
      expect(simulated).toEqual(matrix);
      expect(report.approvalRate.after).toBe(approved / stored.length);
      expect(report.limitTotalMinor.after).toBe(limitTotal);
      expect(report.newlyDeclined.map((d) => d.decisionId).sort()).toEqual(newlyDeclined.sort());
      // Leave the book as the other tests expect it: version 1 live, no overlay effect.
      await here.activate('application', 1, 'risk-lead');
      await here.setOverlay('limitMultiplier', 1, 'risk-lead');
    });

    it('replays with the overlays in force at the decision: exact from the trace, else from the overlay history', async () => {
      const doc: StrategyDocument = {
        id: 'cut',
        inputs: [{ name: 'score', type: 'number', required: true }],
        params: { cutoffScore: { default: 500 } },
        nodes: [
          {
            id: 'cut',
            type: 'ruleSet',
            mode: 'first-hit',
            rules: [
              { id: 'LOW', when: 'score < param.cutoffScore', outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] },
            ],
          },
        ],
      };
      const v1 = await here.saveVersion(doc, 'alice');
      await here.activate('cut', v1.version, 'alice');
      const record = async (decision: Decision, context: DecisionContext) =>
        stores.first.transaction((tx) =>
          recordDecision(
            tx,
            {
              id: ids.next(),
              kind: 'application',
              context,
              decision,
              latencyMs: 0,
              decidedAt: clock.now(),
            },
            TEST_FIELD_CRYPTO,
          ),
        );
      clock.advance(1000);
      const t = clock.now();
      await record(here.decide('cut', { score: 550 }), { score: 550 });
      // Set in the same millisecond, after the decision: the trace, not the clock, says it was not in force.
      await here.setOverlay('cutoffScore', 600, 'risk-lead');
      // So a candidate raising the default to 560 replays it with 560 and declines it.
      const same = await here.simulate(
        { ...doc, params: { cutoffScore: { default: 560 } } },
        { from: t, to: t + 1 },
      );
      expect(same).toMatchObject({ decisions: 1, changed: 1 });
      expect(same.parameterChanges).toEqual([
        { name: 'cutoffScore', before: 500, after: 560, overlaidReplays: 0 },
      ]);

      clock.advance(10);
      const overlaid = here.decide('cut', { score: 550 });
      expect(overlaid.outcome).toBe('DECLINE');
      await record(overlaid, { score: 550 });
      // A decision recorded before traces named their overlays: the overlay history answers.
      const legacy: Decision = {
        ...overlaid,
        trace: overlaid.trace.map((step) => {
          if (step.node !== '$params') return step;
          const { overlays: _named, ...rest } = step;
          return rest;
        }),
      };
      await record(legacy, { score: 550 });
      const report = await here.simulate(
        { ...doc, params: { cutoffScore: { default: 400 } } },
        { from: clock.now(), to: clock.now() + 1 },
      );
      expect(report).toMatchObject({ decisions: 2, changed: 0 });
      expect(report.parameterChanges).toEqual([
        { name: 'cutoffScore', before: 500, after: 400, overlaidReplays: 2 },
      ]);
      await here.setOverlay('cutoffScore', 500, 'risk-lead');
    });

    it('an activation made through another handle decides here after one poll; list() reports what decides', async () => {
      const v1 = await there.saveVersion(gateStrategy(500), 'alice');
      await there.activate('gate', v1.version, 'alice');
      expect(await here.refreshIfChanged()).toBe(true);
      expect(here.decide('gate', { score: 550 })).toMatchObject({ outcome: 'APPROVE', strategyVersion: 1 });
      expect(await here.refreshIfChanged()).toBe(false);

      const v2 = await there.saveVersion(gateStrategy(600), 'alice');
      await there.activate('gate', v2.version, 'bob');
      // Without waiting for any poll: list() reloads first, so what it reports is what decides.
      const listed = (await here.list()).find((s) => s.id === 'gate');
      expect(listed).toMatchObject({ activeVersion: 2, decidingVersion: 2 });
      expect(here.decide('gate', { score: 550 })).toMatchObject({ outcome: 'DECLINE', strategyVersion: 2 });

      // An overlay set elsewhere, too.
      await there.setOverlay('cutoffShift', 200, 'risk-lead');
      await here.refreshIfChanged();
      expect(here.overlays().find((o) => o.name === 'cutoffShift')?.value).toBe(200);
      await there.setOverlay('cutoffShift', 0, 'risk-lead');

      // The watcher does the polling on its own (no timing asserted: it is observed, however long it takes).
      const stop = here.watch(20);
      try {
        await there.activate('gate', 1, 'carol');
        await vi.waitFor(() => expect(here.decide('gate', { score: 550 }).strategyVersion).toBe(1), {
          timeout: 10_000,
          interval: 20,
        });
      } finally {
        stop();
      }
    });

    it('concurrent activations through two handles: none is lost, both instances decide what the store says', async () => {
      const a = await here.saveVersion(gateStrategy(510), 'alice');
      const b = await there.saveVersion(gateStrategy(520), 'bob');
      const generation = async () =>
        Number(
          (
            await stores.first.db
              .selectFrom('config_generation')
              .select('generation')
              .executeTakeFirstOrThrow()
          ).generation,
        );
      const before = await generation();
      for (let round = 0; round < 5; round++) {
        await Promise.all([
          here.activate('gate', a.version, 'alice'),
          there.activate('gate', b.version, 'bob'),
        ]);
        await Promise.all([here.refreshIfChanged(), there.refreshIfChanged()]);
        const stored = (await here.list()).find((s) => s.id === 'gate')?.activeVersion;
        expect(here.decide('gate', { score: 515 }).strategyVersion).toBe(stored);
        expect(there.decide('gate', { score: 515 }).strategyVersion).toBe(stored);
      }
      expect(await generation()).toBe(before + 10);
      expect((await verifyLedger(stores.first.db)).ok).toBe(true);
    });

    it('refuses an undeclared overlay name and a value outside its bounds, naming them', async () => {
      await here.refreshIfChanged(); // the previous test changed overlays through the other handle
      await expect(here.setOverlay('limitMultipler', 0.5, 'x')).rejects.toMatchObject({
        code: 'LG_OVERLAY_UNKNOWN',
        details: { name: 'limitMultipler' },
      });
      await expect(here.setOverlay('limitMultiplier', 50, 'x')).rejects.toMatchObject({
        code: 'LG_OVERLAY_OUT_OF_BOUNDS',
        details: { name: 'limitMultiplier', min: 0, max: 2 },
      });
      await expect(here.setOverlay('cutoffShift', 1.5, 'x')).rejects.toMatchObject({
        code: 'LG_OVERLAY_OUT_OF_BOUNDS',
      });
      await expect(here.setOverlay('limitMultiplier', 'lots', 'x')).rejects.toMatchObject({
        code: 'LG_OVERLAY_OUT_OF_BOUNDS',
      });
      await expect(here.setOverlay('maxLimitMinor', 20_000_001, 'x')).rejects.toMatchObject({
        code: 'LG_OVERLAY_OUT_OF_BOUNDS',
      });
      expect(here.overlayDeclarations().find((d) => d.name === 'limitMultiplier')).toMatchObject({
        type: 'number',
        min: 0,
        max: 2,
      });
      // A value written around the API (an older release accepted anything) is not applied, and says so.
      const ctx = {
        age: 30,
        monthlyIncomeMinor: 1_000_000,
        CheckingAccountStatus: 'none',
        CreditHistory: 'PaidDuly',
        Duration: 12,
        ...OTHER_SCORED_CHARACTERISTICS,
      };
      const before = here.decide('application', ctx).limitMinor;
      expect(before).toBeGreaterThan(0);
      await stores.first.db
        .updateTable('overlays')
        .set({ value: '50' })
        .where('name', '=', 'limitMultiplier')
        .execute();
      await here.refresh();
      expect(here.decide('application', ctx).limitMinor).toBe(before);
      expect(here.overlays().find((o) => o.name === 'limitMultiplier')).toMatchObject({
        value: 50,
        inForce: false,
      });
      await here.setOverlay('limitMultiplier', 1, 'risk-lead');
    });

    it('records strategy versions, activations and overlay changes in the ledger, refusals not at all', async () => {
      const count = async (kind: string) =>
        Number(
          (
            await stores.first.db
              .selectFrom('ledger_entries')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('kind', '=', kind)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const saved0 = await count('strategy.version_saved');
      const activated0 = await count('strategy.activated');
      const overlays0 = await count('overlay.changed');
      const previous = (await here.list()).find((s) => s.id === 'gate')?.activeVersion;
      const v = await here.saveVersion(gateStrategy(700), 'dave');
      await here.activate('gate', v.version, 'erin');
      await here.setOverlay('cutoffShift', 10, 'frank');
      expect(await count('strategy.version_saved')).toBe(saved0 + 1);
      expect(await count('strategy.activated')).toBe(activated0 + 1);
      expect(await count('overlay.changed')).toBe(overlays0 + 1);
      // Refused changes leave nothing on the chain.
      await expect(here.activate('gate', 999, 'erin')).rejects.toMatchObject({ code: 'LG_NOT_FOUND' });
      await expect(here.setOverlay('nope', 1, 'frank')).rejects.toMatchObject({ code: 'LG_OVERLAY_UNKNOWN' });
      expect(await count('strategy.activated')).toBe(activated0 + 1);
      expect(await count('overlay.changed')).toBe(overlays0 + 1);
      const entries = await stores.first.db
        .selectFrom('ledger_entries')
        .select(['kind', 'subject_id', 'payload'])
        .orderBy('seq', 'desc')
        .limit(3)
        .execute();
      expect(entries.map((e) => [e.kind, e.subject_id, JSON.parse(e.payload) as unknown])).toEqual([
        [
          'overlay.changed',
          'cutoffShift',
          { name: 'cutoffShift', value: 10, previousValue: 0, changedBy: 'frank' },
        ],
        [
          'strategy.activated',
          'gate',
          expect.objectContaining({
            strategyId: 'gate',
            version: v.version,
            previousVersion: previous,
            activatedBy: 'erin',
          }),
        ],
        [
          'strategy.version_saved',
          'gate',
          expect.objectContaining({ strategyId: 'gate', version: v.version, createdBy: 'dave' }),
        ],
      ]);
      // The bundled strategies' first start is on the chain too.
      expect(await count('strategy.activated')).toBeGreaterThanOrEqual(3);
      expect((await verifyLedger(stores.first.db)).ok).toBe(true);
      await here.setOverlay('cutoffShift', 0, 'frank');
    });
  });
}
