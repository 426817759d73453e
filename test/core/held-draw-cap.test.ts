import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { releaseDueCooldowns, releaseHeldDrawInTx, type DrawInput } from '../../src/core/index.js';
import type { Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { makeCore, openLine, residentId, type Harness } from './harness.js';

/**
 * The per-borrower cap (LINEGUARD_BORROWER_CAP_MINOR) must hold at the moment money leaves, and a held draw leaves
 * later than it was asked for: meanwhile the borrower may draw on another line, ask for a raise or a new line, or
 * close a line that still carries a balance. A release re-checks the line under its lock (status, available credit,
 * hard rules); the cap holds because nothing can grant credit past it while the draw waits.
 */
const CAP = 200_000;
const LIMIT = 100_000;
const COOLING_OFF_MS = 10 * 60_000;
const ROUNDS = 4;
const DRAW: DrawInput = { amountMinor: LIMIT, currency: 'CNY', termMonths: 6, method: 'EQUAL_INSTALLMENT' };

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`a held draw's release and the borrower cap on ${factory.name}`, () => {
    let store: Store;
    let h: Harness;
    let seq = 0;

    beforeEach(async () => {
      store = await factory.open('core_held_draw_cap');
      h = makeCore(store, { borrowerCapMinor: CAP });
    });
    afterEach(async () => store?.close());

    /** A borrower with two lines of LIMIT each: the whole cap. */
    const twoLines = async () => {
      seq += 1;
      const applicant = { name: '孙九', nationalId: residentId('19870707', 400 + seq), phone: '13600000009' };
      const a = await openLine(h, LIMIT, applicant);
      const b = await openLine(h, LIMIT, applicant);
      return { applicant, a, b };
    };
    const heldOn = async (lineId: string, outcome: 'HOLD' | 'COOLDOWN') => {
      h.engine.script.draw = () => ({ outcome });
      const held = await h.core.requestDraw(lineId, DRAW);
      expect(held.status).toBe(outcome);
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      return held.drawId;
    };
    const byPerson = (drawId: string) =>
      store.transaction((tx) => releaseHeldDrawInTx(h.deps, tx, drawId, { actor: 'analyst' }));
    /** What the borrower owes in principal on every line they ever had, open or not. */
    const owed = async (lineIds: readonly string[]) => {
      const rows = await store.db
        .selectFrom('credit_lines')
        .select('outstanding_minor')
        .where('id', 'in', lineIds)
        .execute();
      return rows.reduce((sum, r) => sum + Number(r.outstanding_minor), 0);
    };

    it('holds: while a draw is held, a draw on the other line, a raise and a new line cannot make room past the cap', async () => {
      const { applicant, a, b } = await twoLines();
      const drawId = await heldOn(a, 'HOLD');
      expect((await h.core.requestDraw(b, DRAW)).status).toBe('APPROVED');
      await expect(
        h.core.applyLineAction(b, {
          type: 'LIMIT_INCREASE',
          limitMinor: LIMIT + 50_000,
          reasons: ['R_GOOD_REPAYMENT'],
          automated: false,
          actor: 'test',
        }),
      ).rejects.toMatchObject({ code: 'LG_BORROWER_CAP_EXCEEDED' });
      const third = await h.core.submitApplication({
        applicant,
        attributes: { monthlyIncomeMinor: 1_000_000 },
      });
      expect(third.outcome).toBe('DECLINE');
      expect(third.reasons[0]).toBe('R_BORROWER_CAP');
      // The release books within line A's own limit: the borrower owes exactly the cap, never more.
      await byPerson(drawId);
      expect(await owed([a, b])).toBe(CAP);
    });

    it('holds: a release re-checks the line under its lock, and a draw that took its credit meanwhile wins alone', async () => {
      const { a } = await twoLines();
      const personal = await heldOn(a, 'HOLD');
      const cooling = await heldOn(a, 'COOLDOWN');
      expect((await h.core.requestDraw(a, { ...DRAW, amountMinor: 1 })).status).toBe('APPROVED');
      await expect(byPerson(personal)).rejects.toMatchObject({ code: 'LG_INSUFFICIENT_CREDIT' });
      h.clock.advance(COOLING_OFF_MS + 1);
      const swept = await releaseDueCooldowns(h.deps, { coolingOffMs: COOLING_OFF_MS });
      expect(swept).toMatchObject({ released: [], stopped: [cooling] });
      expect(await owed([a])).toBe(1);
    });

    it('holds: a release in one process and a draw on the same line in another book only what the line has', async () => {
      // Another instance of the core on the same database (another `serve` process); on PostgreSQL each side's
      // transaction has its own connection, so the line's row lock is what orders them (both orders occur).
      const other = makeCore(store, { seed: 77, borrowerCapMinor: CAP, clock: h.clock });
      other.engine.script.draw = () => ({ outcome: 'APPROVE' });
      for (let round = 0; round < ROUNDS; round += 1) {
        const { a } = await twoLines();
        const drawId = await heldOn(a, 'HOLD');
        const [released, drawn] = await Promise.allSettled([
          byPerson(drawId),
          other.core.requestDraw(a, { ...DRAW, amountMinor: 1 }),
        ]);
        const won = [released, drawn].filter((r) => r.status === 'fulfilled');
        expect(won, JSON.stringify([released, drawn])).toHaveLength(1);
        const lost = [released, drawn].find((r) => r.status === 'rejected');
        expect(lost?.reason).toMatchObject({ code: 'LG_INSUFFICIENT_CREDIT' });
        expect(await owed([a])).toBe(released.status === 'fulfilled' ? LIMIT : 1);
      }
    });

    for (const release of ['person', 'job'] as const) {
      it(`a line closed with a balance still counts: a release by the ${release} never takes the borrower over the cap`, async () => {
        const { applicant, a, b } = await twoLines();
        const drawId = await heldOn(a, release === 'person' ? 'HOLD' : 'COOLDOWN');
        // Line B is drawn in full, then closed: the borrower still owes its LIMIT.
        expect((await h.core.requestDraw(b, DRAW)).status).toBe('APPROVED');
        await h.core.applyLineAction(b, {
          type: 'CLOSE',
          reasons: ['R_MANUAL_REVIEW'],
          automated: false,
          actor: 'test',
        });
        // The borrower asks for a new line and draws all of it (before the fix: B's closed limit counted as room).
        const third = await h.core.submitApplication({
          applicant,
          attributes: { monthlyIncomeMinor: 1_000_000 },
        });
        if (third.line)
          await h.core.requestDraw(third.line.id, { ...DRAW, amountMinor: third.line.limitMinor });
        if (release === 'person') await byPerson(drawId);
        else {
          h.clock.advance(COOLING_OFF_MS + 1);
          const swept = await releaseDueCooldowns(h.deps, { coolingOffMs: COOLING_OFF_MS });
          expect(swept.released).toEqual([drawId]);
        }
        const lines = await store.db
          .selectFrom('credit_lines')
          .select('id')
          .where('borrower_id', '=', third.borrowerId)
          .execute();
        expect(await owed(lines.map((l) => l.id))).toBe(CAP);
        // Neither the new line nor a raise of A may count B's closed limit as room.
        expect(third).toMatchObject({ outcome: 'DECLINE', reasons: ['R_BORROWER_CAP'], line: null });
        await expect(
          h.core.applyLineAction(a, {
            type: 'LIMIT_INCREASE',
            limitMinor: CAP,
            reasons: ['R_GOOD_REPAYMENT'],
            automated: false,
            actor: 'test',
          }),
        ).rejects.toMatchObject({ code: 'LG_BORROWER_CAP_EXCEEDED' });
      });
    }

    it('a repayment on a closed line gives back room under the cap, no more than it repaid', async () => {
      const { applicant, b } = await twoLines();
      const drawn = await h.core.requestDraw(b, DRAW);
      await h.core.applyLineAction(b, {
        type: 'CLOSE',
        reasons: ['R_MANUAL_REVIEW'],
        automated: false,
        actor: 'test',
      });
      const first = drawn.loan?.schedule[0];
      const paid = await h.core.repay(drawn.loan?.id ?? '', {
        amountMinor: first?.totalMinor ?? 0,
        currency: 'CNY',
      });
      // Paid before anything is due, all of it is principal (core/allocation.ts).
      const repaid = paid.allocated.principalMinor;
      expect(repaid).toBeGreaterThan(0);
      h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: LIMIT, annualRate: 0.18 });
      const third = await h.core.submitApplication({
        applicant,
        attributes: { monthlyIncomeMinor: 1_000_000 },
      });
      expect(third.outcome).toBe('APPROVE');
      expect(third.line?.limitMinor).toBe(repaid);
    });
  });
}
