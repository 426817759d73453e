import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createIsolatedPostgresSchema, type Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp } from '../helpers/app.js';
import { createCoreServices, listBorrowerLines, listLineDraws, listLineLoans } from '../../src/core/index.js';
import { stallOnce } from '../helpers/stall.js';
import { makeCore, openLine, residentId, T0, type Harness } from './harness.js';

/**
 * Issue 13, "controls exact across processes": the facts a decision reads (the borrower's exposure, the line's last
 * draw) are read under the lock of what the decision writes, with the time taken inside that lock.
 */

/** A clock that moves 1 ms on every read, as a real one does between two requests. */
class TickingClock extends ManualClock {
  override now(): number {
    this.advance(1);
    return super.now();
  }
}

const CAP = 20_000_000;
const APPLICATIONS = 10;
const DRAWS = 50;
const COOLING_OFF_MINUTES = 10;

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`facts read under the lock of the write on ${factory.name}`, () => {
    let store: Store;
    let h: Harness;
    beforeAll(async () => {
      store = await factory.open('core_serialised_facts');
      h = makeCore(store, { seed: 21, borrowerCapMinor: CAP, clock: new TickingClock(T0) });
    });
    afterAll(async () => {
      await store?.close();
    });

    it(`${APPLICATIONS} simultaneous applications never take the borrower over the cap`, async () => {
      const applicant = { name: '钱七', nationalId: residentId('19850512', 31), phone: '13600000001' };
      await openLine(h, 18_000_000, applicant);
      // Every application asks for 5M; only 2M of room is left under the 20M cap.
      h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate: 0.18 });
      await Promise.allSettled(
        Array.from({ length: APPLICATIONS }, () =>
          h.core.submitApplication({ applicant, attributes: { monthlyIncomeMinor: 1_000_000 } }),
        ),
      );
      const lines = await store.db
        .selectFrom('credit_lines')
        .innerJoin('borrowers', 'borrowers.id', 'credit_lines.borrower_id')
        .select('credit_lines.limit_minor')
        .where('credit_lines.status', 'in', ['ACTIVE', 'DRAW_FROZEN', 'SUSPENDED', 'PENDING'])
        .execute();
      const total = lines.reduce((sum, l) => sum + Number(l.limit_minor), 0);
      expect(total).toBeLessThanOrEqual(CAP);
      expect(total).toBe(CAP);
    });

    const openLimits = async (borrowerId: string) => {
      const lines = await store.db
        .selectFrom('credit_lines')
        .select('limit_minor')
        .where('borrower_id', '=', borrowerId)
        .where('status', 'in', ['ACTIVE', 'DRAW_FROZEN', 'SUSPENDED', 'PENDING'])
        .execute();
      return lines.reduce((sum, l) => sum + Number(l.limit_minor), 0);
    };

    it('simultaneous limit increases on two lines of one borrower never take the borrower over the cap', async () => {
      const applicant = { name: '吴十', nationalId: residentId('19880808', 61), phone: '13600000004' };
      const lines = [await openLine(h, 8_000_000, applicant), await openLine(h, 8_000_000, applicant)];
      const { borrower_id: borrowerId } = await store.db
        .selectFrom('credit_lines')
        .select('borrower_id')
        .where('id', '=', lines[0] as string)
        .executeTakeFirstOrThrow();
      // 4M of room under the 20M cap; each line asks for 4M more, which either alone may have.
      const raised = await Promise.allSettled(
        lines.map((lineId) =>
          h.core.applyLineAction(lineId, {
            type: 'LIMIT_INCREASE',
            limitMinor: 12_000_000,
            reasons: ['R_GOOD_REPAYMENT'],
            automated: false,
            actor: 'test',
          }),
        ),
      );
      expect(raised.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await openLimits(borrowerId)).toBe(CAP);
    });

    it("lists a borrower's lines in the order they commit: a page's cursor never passes a line that commits later", async () => {
      const applicant = { name: '郑十一', nationalId: residentId('19890909', 71), phone: '13600000005' };
      h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 1_000_000, annualRate: 0.18 });
      const apply = (core = h.core) =>
        core.submitApplication({ applicant, attributes: { monthlyIncomeMinor: 1_000_000 } });
      const { borrowerId } = await apply();
      // The next application stalls after it is decided and before its transaction (a GC pause, a busy CPU).
      const stall = stallOnce();
      const stalling = createCoreServices({
        ...h.deps,
        coreStore: {
          ...h.deps.coreStore,
          openExposure: async (id) => {
            await stall.pause();
            return h.deps.coreStore.openExposure(id);
          },
        },
      });
      const late = apply(stalling);
      await stall.paused;
      h.clock.advance(5);
      const meanwhile = await apply();
      // A client reads the lines up to the newest it knows, and later everything after it.
      const seen = await listBorrowerLines(h.deps.coreStore, borrowerId, {});
      expect(seen.items.at(-1)?.id).toBe(meanwhile.line?.id);
      const upTo = Date.parse(seen.items.at(-1)?.createdAt ?? '') + 1;
      stall.resume();
      const lateLine = (await late).line?.id;
      const after = await listBorrowerLines(h.deps.coreStore, borrowerId, { from: upTo });
      expect(after.items.map((l) => l.id)).toEqual([lateLine]);
    });

    it("lists a line's draws and loans in the order they commit, whatever the processes' clocks say", async () => {
      const lineId = await openLine(h, 10_000_000, {
        name: '王十二',
        nationalId: residentId('19900101', 81),
        phone: '13600000006',
      });
      // A second process on the same database whose clock runs 5 ms behind the first one's.
      const behind = makeCore(store, {
        seed: 22,
        borrowerCapMinor: CAP,
        clock: new ManualClock(h.clock.now() - 5),
      });
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      behind.engine.script.draw = () => ({ outcome: 'APPROVE' });
      const draw = {
        amountMinor: 10_000,
        currency: 'CNY',
        termMonths: 3,
        method: 'EQUAL_INSTALLMENT' as const,
      };
      await h.core.requestDraw(lineId, draw);
      const seen = await listLineDraws(h.deps.coreStore, lineId, {});
      const upTo = Date.parse(seen.items.at(-1)?.createdAt ?? '') + 1;
      const later = await behind.core.requestDraw(lineId, draw);
      expect(later.status).toBe('APPROVED');
      const after = await listLineDraws(h.deps.coreStore, lineId, { from: upTo });
      expect(after.items.map((d) => d.id)).toEqual([later.drawId]);
      const loans = await listLineLoans(h.deps.coreStore, lineId, { from: upTo });
      expect(loans.items.map((l) => l.id)).toEqual([later.loan?.id]);
    });

    it(`${DRAWS} simultaneous draws on one line with a one-per-${COOLING_OFF_MINUTES}-minutes rule: exactly one approval`, async () => {
      const lineId = await openLine(h, 10_000_000, {
        name: '孙八',
        nationalId: residentId('19870101', 45),
        phone: '13600000002',
      });
      const seen: number[] = [];
      h.engine.script.draw = (ctx) => {
        const minutes = ctx.minutesSinceLastDraw;
        if (typeof minutes === 'number') seen.push(minutes);
        return typeof minutes === 'number' && minutes < COOLING_OFF_MINUTES
          ? { outcome: 'COOLDOWN', reasons: ['R_COOLING_OFF'] }
          : { outcome: 'APPROVE' };
      };
      const results = await Promise.allSettled(
        Array.from({ length: DRAWS }, () =>
          h.core.requestDraw(lineId, {
            amountMinor: 10_000,
            currency: 'CNY',
            termMonths: 3,
            method: 'EQUAL_INSTALLMENT',
          }),
        ),
      );
      const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : 'REJECTED'));
      expect(statuses.filter((s) => s === 'APPROVED')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'COOLDOWN')).toHaveLength(DRAWS - 1);
      // The time is taken inside the line's lock: no decision ever saw a last draw in its future.
      expect(seen.every((m) => m >= 0)).toBe(true);
    });
  });
}

describe.each(STORE_FACTORIES.filter((f) => f.enabled).map((f) => [f.name] as const))(
  'the bundled draw strategy under concurrent draws on %s',
  (storeName) => {
    it(`${DRAWS} simultaneous draws through the API: one approval, the rest cooled off, no 4xx for a valid draw`, async () => {
      const env =
        storeName === 'postgres'
          ? {
              LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(
                process.env.LINEGUARD_TEST_DATABASE_URL ?? '',
                'core_bundled_velocity',
              ),
            }
          : {};
      const t = await startTestApp(env);
      try {
        const { app, server } = t;
        const applicant = { name: '周九', nationalId: residentId('19860606', 52), phone: '13600000003' };
        const applied = await app.core.submitApplication({ applicant, attributes: STRONG_APPLICANT });
        const lineId = applied.line?.id;
        if (!lineId) throw new Error(`not approved: ${applied.outcome}`);
        const replies = await Promise.all(
          Array.from({ length: DRAWS }, (_, i) =>
            server.inject({
              method: 'POST',
              url: `/v1/lines/${lineId}/draws`,
              headers: adminHeaders(`velocity-${i}`),
              payload: { amountMinor: 10_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' },
            }),
          ),
        );
        const statuses = replies.map((r) => r.json() as { status?: string; error?: { code: string } });
        expect(statuses.filter((s) => s.error)).toEqual([]);
        expect(statuses.filter((s) => s.status === 'APPROVED')).toHaveLength(1);
        expect(statuses.filter((s) => s.status === 'COOLDOWN')).toHaveLength(DRAWS - 1);
      } finally {
        await t.close();
      }
    });
  },
);
