import { TEST_FIELD_CRYPTO } from '../helpers/stores.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/domain/clock.js';
import { LgError } from '../../src/domain/errors.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { createEngineMetrics } from '../../src/app/engine-metrics.js';
import type { EngineService } from '../../src/engine/index.js';
import { openEngine } from '../../src/app/engine.js';
import { recordDecision } from '../../src/store/index.js';
import { applicationScorecard, gateStrategy, OTHER_SCORED_CHARACTERISTICS } from './fixtures.js';

const T0 = Date.UTC(2025, 0, 1);

function suite(name: string, open: () => Promise<Store>, cleanup?: () => Promise<void>): void {
  describe(`engine service on ${name}`, () => {
    let store: Store;
    let engine: EngineService;
    const clock = new ManualClock(T0);
    const registry = new Registry();
    const ids = uuidv7Generator(clock, seededRandom(7));

    beforeAll(async () => {
      store = await open();
      engine = await openEngine({
        store,
        crypto: TEST_FIELD_CRYPTO,
        clock,
        models: (id) => (id === applicationScorecard.id ? applicationScorecard : undefined),
        metrics: createEngineMetrics(registry),
        ids,
      });
    });
    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('loads and activates the bundled strategies on first start', async () => {
      const list = await engine.list();
      expect(list.map((s) => s.id)).toEqual(['application', 'draw', 'line-review']);
      expect(list.every((s) => s.activeVersion === 1)).toBe(true);
    });

    it('runs the bundled application strategy end to end', () => {
      const base = { age: 30, monthlyIncomeMinor: 1_000_000, existingDebtMinor: 0, inquiries30d: 0 };
      const good = engine.decide('application', {
        ...base,
        CheckingAccountStatus: 'none',
        CreditHistory: 'PaidDuly',
        Duration: 12,
        ...OTHER_SCORED_CHARACTERISTICS,
      });
      expect(good.outcome).toBe('APPROVE');
      expect(good.values.score).toBe(578);
      // score band [540..580) x income [5000..15000) -> multiple 3, rate 0.162
      expect(good.limitMinor).toBe(3_000_000);
      expect(good.annualRate).toBe(0.162);
      expect(good.actions).toEqual([
        { type: 'GRANT', limitMinor: 3_000_000, annualRate: 0.162, reasons: [] },
      ]);
      const poor = engine.decide('application', {
        ...base,
        CheckingAccountStatus: 'lt.0',
        CreditHistory: 'Critical',
        Duration: 36,
        ...OTHER_SCORED_CHARACTERISTICS,
      });
      expect(poor.outcome).toBe('DECLINE');
      expect(poor.reasons).toEqual([
        'R_SCORE_LOW',
        'R_CHECKING_ACCOUNT',
        'R_CREDIT_HISTORY',
        'R_LOAN_DURATION',
      ]);
      const minor = engine.decide('application', { ...base, age: 17, blacklisted: true });
      expect(minor.outcome).toBe('DECLINE');
      expect(minor.reasons).toEqual(['R_AGE_BELOW_MIN', 'R_BLACKLIST']);
      expect(engine.decide('application', base).reasons).toEqual(['R_THIN_FILE']);
      expect(() => engine.decide('application', { age: 'x' })).toThrow(LgError);
    });

    it('runs the bundled draw and line-review strategies', () => {
      const draw = {
        lineStatus: 'ACTIVE',
        availableMinor: 1_000_000,
        amountMinor: 200_000,
        limitMinor: 1_000_000,
      };
      expect(engine.decide('draw', draw).outcome).toBe('APPROVE');
      expect(engine.decide('draw', { ...draw, lineStatus: 'DRAW_FROZEN' }).reasons).toEqual([
        'R_LINE_FROZEN',
      ]);
      expect(engine.decide('draw', { ...draw, amountMinor: 2_000_000 }).reasons).toEqual([
        'R_INSUFFICIENT_CREDIT',
      ]);
      expect(engine.decide('draw', { ...draw, minutesSinceLastDraw: 3 }).outcome).toBe('COOLDOWN');
      const scam = engine.decide('draw', {
        ...draw,
        amountMinor: 600_000,
        callInProgress: true,
        userNewDevice24h: true,
      });
      expect(scam.outcome).toBe('HOLD');
      expect(scam.reasons).toEqual(['R_CALL_IN_PROGRESS', 'R_NEW_DEVICE']);
      const review = { lineStatus: 'ACTIVE', limitMinor: 1_000_000 };
      expect(engine.decide('line-review', { ...review, daysPastDue: 5 }).actions).toEqual([
        { type: 'FREEZE_DRAW', reasons: ['R_DAYS_PAST_DUE'] },
      ]);
      expect(
        engine.decide('line-review', {
          ...review,
          daysPastDue: 0,
          monthsOnBook: 12,
          onTimePayments: 12,
          utilisation: 0.7,
          inquiries90d: 0,
        }).actions,
      ).toEqual([{ type: 'LIMIT_INCREASE', limitMinor: 1_200_000, reasons: ['R_GOOD_REPAYMENT'] }]);
      expect(
        engine.decide('line-review', { lineStatus: 'DRAW_FROZEN', limitMinor: 1, daysPastDue: 0 }).actions[0]
          ?.type,
      ).toBe('UNFREEZE');
    });

    it('saves versions as drafts, activates atomically and rolls back', async () => {
      const v1 = await engine.saveVersion(gateStrategy(500), 'alice');
      expect(v1).toMatchObject({ strategyId: 'gate', version: 1, status: 'draft', createdBy: 'alice' });
      expect(() => engine.decide('gate', { score: 400 })).toThrow(/no active version/);
      clock.advance(1000);
      await engine.activate('gate', 1, 'bob');
      expect(engine.decide('gate', { score: 550 }).outcome).toBe('APPROVE');
      const v2 = await engine.saveVersion(JSON.stringify(gateStrategy(600)), 'alice');
      expect(v2.version).toBe(2);
      expect(engine.decide('gate', { score: 550 }).outcome).toBe('APPROVE');
      clock.advance(1000);
      await engine.activate('gate', 2, 'bob');
      const d = engine.decide('gate', { score: 550 });
      expect(d).toMatchObject({ outcome: 'DECLINE', strategyVersion: 2 });
      clock.advance(1000);
      await engine.activate('gate', 1, 'carol'); // rollback
      expect(engine.decide('gate', { score: 550 })).toMatchObject({ outcome: 'APPROVE', strategyVersion: 1 });
      const versions = await engine.listVersions('gate');
      expect(versions.map((v) => [v.version, v.status])).toEqual([
        [1, 'active'],
        [2, 'retired'],
      ]);
      expect(
        (await engine.activations('gate')).map((a) => [a.version, a.previousVersion, a.activatedBy]),
      ).toEqual([
        [1, null, 'bob'],
        [2, 1, 'bob'],
        [1, 2, 'carol'],
      ]);
      await expect(engine.activate('gate', 9, 'bob')).rejects.toMatchObject({ code: 'LG_NOT_FOUND' });
      await expect(engine.saveVersion({ id: 'gate', inputs: [], nodes: [] }, 'x')).rejects.toMatchObject({
        code: 'LG_STRATEGY_INVALID',
      });
      const again = await openEngine({ store, crypto: TEST_FIELD_CRYPTO, clock, models: () => undefined });
      expect(again.decide('gate', { score: 550 }).strategyVersion).toBe(1);
    });

    it('overlays change parameters without a new version and keep their history', async () => {
      const ctx = {
        age: 30,
        monthlyIncomeMinor: 1_000_000,
        CheckingAccountStatus: 'none',
        CreditHistory: 'PaidDuly',
        Duration: 12,
        ...OTHER_SCORED_CHARACTERISTICS,
      };
      expect(engine.decide('application', ctx).limitMinor).toBe(3_000_000);
      await engine.setOverlay('limitMultiplier', 0.5, 'risk-lead');
      const halved = engine.decide('application', ctx);
      expect(halved.limitMinor).toBe(1_500_000);
      expect(halved.strategyVersion).toBe(1);
      expect(halved.trace[0]).toMatchObject({ node: '$params', values: { limitMultiplier: 0.5 } });
      await engine.setOverlay('cutoffShift', 100, 'risk-lead');
      expect(engine.decide('application', ctx).outcome).toBe('DECLINE');
      await engine.setOverlay('cutoffShift', 0, 'risk-lead');
      await engine.setOverlay('limitMultiplier', 1, 'risk-lead');
      const history = await engine.overlayHistory('cutoffShift');
      expect(history.map((h) => [h.value, h.previousValue, h.changedBy])).toEqual([
        [100, null, 'risk-lead'],
        [0, 100, 'risk-lead'],
      ]);
    });

    it('records decisions with their ledger entry in the caller transaction', async () => {
      const context = { score: 450 };
      const decision = engine.decide('gate', context, { subjectKey: 'b-1' });
      const id = ids.next();
      await store.transaction((tx) =>
        recordDecision(
          tx,
          {
            id,
            kind: 'application',
            borrowerId: 'b-1',
            subjectKey: 'b-1',
            context,
            decision,
            latencyMs: 0.02,
            decidedAt: clock.now(),
          },
          TEST_FIELD_CRYPTO,
        ),
      );
      const stored = await engine.getDecision(id);
      expect(stored).toMatchObject({
        id,
        kind: 'application',
        borrowerId: 'b-1',
        strategyId: 'gate',
        strategyVersion: 1,
        context,
      });
      expect(stored?.decision.outcome).toBe('DECLINE');
      expect(stored?.decision.trace).toEqual(decision.trace);
      const entry = await store.db
        .selectFrom('ledger_entries')
        .selectAll()
        .where('entry_id', '=', id)
        .executeTakeFirstOrThrow();
      expect(JSON.parse(entry.payload)).toMatchObject({
        decisionId: id,
        outcome: 'DECLINE',
        strategyVersion: 1,
      });
      expect((await verifyLedger(store.db)).ok).toBe(true);
      // A rolled-back caller transaction leaves neither row.
      const lost = ids.next();
      await expect(
        store.transaction(async (tx) => {
          await recordDecision(
            tx,
            {
              id: lost,
              kind: 'draw',
              context,
              decision,
              latencyMs: 0,
              decidedAt: clock.now(),
            },
            TEST_FIELD_CRYPTO,
          );
          throw new Error('core failed');
        }),
      ).rejects.toThrow('core failed');
      expect(await engine.getDecision(lost)).toBeUndefined();
    });

    it('simulates a candidate against stored decisions with known answers', async () => {
      // 10 decisions with scores 500, 510, ..., 590 under the active cut-off 500 (version 1): all approved.
      const start = T0 + 86_400_000;
      for (let i = 0; i < 10; i++) {
        const context = { score: 500 + 10 * i };
        const decision = engine.decide('gate', context);
        await store.transaction((tx) =>
          recordDecision(
            tx,
            {
              id: ids.next(),
              kind: 'application',
              borrowerId: `sim-${i}`,
              context,
              decision,
              latencyMs: 0,
              decidedAt: start + i,
            },
            TEST_FIELD_CRYPTO,
          ),
        );
      }
      const report = await engine.simulate(gateStrategy(550), { from: start, to: start + 100 });
      expect(report.decisions).toBe(10);
      expect(report.changed).toBe(5);
      expect(report.outcomeMatrix.APPROVE.DECLINE).toBe(5);
      expect(report.outcomeMatrix.APPROVE.APPROVE).toBe(5);
      expect(report.approvalRate).toEqual({ before: 1, after: 0.5 });
      expect(report.reasonShifts).toEqual([{ code: 'R_SCORE_LOW', before: 0, after: 5, delta: 5 }]);
      expect(report.newlyDeclined.map((s) => s.borrowerId)).toEqual([
        'sim-0',
        'sim-1',
        'sim-2',
        'sim-3',
        'sim-4',
      ]);
      const none = await engine.simulate(gateStrategy(550), { from: start + 100, to: start + 200 });
      expect(none.decisions).toBe(0);
    });

    it('counts decisions in prometheus metrics', async () => {
      const text = await registry.metrics();
      expect(text).toMatch(/lineguard_decisions_total\{strategy="gate",version="1",outcome="APPROVE"\} \d+/);
      expect(text).toMatch(/lineguard_decision_reasons_total\{reason="R_SCORE_LOW"\}/);
      expect(text).toMatch(/lineguard_decision_latency_seconds_bucket/);
    });
  });
}

suite('SQLite', () => openStore({ sqlitePath: ':memory:' }));

const pgUrl = process.env.LINEGUARD_TEST_DATABASE_URL;
describe.skipIf(!pgUrl)('PostgreSQL (set LINEGUARD_TEST_DATABASE_URL to run)', () => {
  let url = '';
  suite(
    'PostgreSQL',
    async () => {
      url = await createIsolatedPostgresSchema(pgUrl as string, 'engine_service');
      return openStore({ postgresUrl: url });
    },
    // Drop the schema afterwards: Kysely's migrator sees migration tables in any schema, so leftovers confuse later suites.
    async () => {
      const schema = /search_path=([a-z0-9_]+)/.exec(decodeURIComponent(url))?.[1];
      if (!schema) return;
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  );
});
