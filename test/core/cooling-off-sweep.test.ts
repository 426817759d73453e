import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { cancelHeldDrawInTx, releaseDueCooldowns } from '../../src/core/index.js';
import { makeCore, openLine, type Harness } from './harness.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { stallOnce } from '../helpers/stall.js';

/**
 * The cooling-off sweep lists the due draws, then releases each in its own unit under the draw's and the line's locks.
 * The list is read outside those locks, so a borrower may cancel a listed draw (in another process) before its unit
 * or while it runs: whatever the order, a cancelled draw is never released, the cancel and the release never both
 * succeed, and a draw that left its cooling-off meanwhile is not reported as a failure of the sweep.
 */
const COOLING_OFF_MS = 24 * 3_600_000;
const DRAW = { amountMinor: 100_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' } as const;

const STORES = [
  {
    name: 'sqlite',
    enabled: true,
    open: async (): Promise<[Store, Store]> => {
      const one = await openStore({ sqlitePath: ':memory:' });
      return [one, one];
    },
  },
  {
    name: 'postgres',
    enabled: Boolean(TEST_DATABASE_URL),
    // Two stores over one schema: the sweep's process and the borrower's request's process.
    open: async (): Promise<[Store, Store]> => {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'cooling_off_sweep');
      return [await openStore({ postgresUrl: url }), await openStore({ postgresUrl: url })];
    },
  },
] as const;

for (const factory of STORES)
  describe.skipIf(!factory.enabled)(`the cooling-off sweep and a borrower's cancel (${factory.name})`, () => {
    let sweeper: Store;
    let other: Store;
    let h: Harness;
    let borrower: Harness;
    beforeEach(async () => {
      [sweeper, other] = await factory.open();
      h = makeCore(sweeper);
      borrower = makeCore(other, { clock: h.clock, seed: 11 });
    });
    afterEach(async () => {
      await sweeper.close();
      if (other !== sweeper) await other.close();
    });

    /** A draw in its cooling-off, due for release. */
    async function dueDraw(): Promise<string> {
      const lineId = await openLine(h);
      h.engine.script.draw = () => ({ outcome: 'COOLDOWN', reasons: ['R_COOLING_OFF'] });
      const held = await h.core.requestDraw(lineId, DRAW);
      expect(held.status).toBe('COOLDOWN');
      h.clock.advance(COOLING_OFF_MS + 1);
      return held.drawId;
    }

    /** The borrower cancels in the other process. */
    const cancel = (drawId: string) =>
      other.transaction((tx) =>
        cancelHeldDrawInTx(borrower.deps, tx, drawId, {
          actor: 'borrower:test',
          reasons: ['R_BORROWER_REQUEST'],
          allowed: ['COOLDOWN'],
        }),
      );

    const drawRow = (drawId: string) =>
      sweeper.db
        .selectFrom('draws')
        .select(['status', 'loan_id'])
        .where('id', '=', drawId)
        .executeTakeFirstOrThrow();
    const loans = async (drawId: string) =>
      (
        await sweeper.db
          .selectFrom('ledger_entries')
          .select('kind')
          .where('entry_id', 'like', `${drawId}:%`)
          .execute()
      )
        .map((r) => r.kind)
        .sort();

    it('leaves a draw cancelled after the sweep listed it: not released, and no failure to report', async () => {
      const drawId = await dueDraw();
      // The borrower's cancel commits after the sweep read its list and before the draw's unit.
      const transaction = sweeper.transaction.bind(sweeper);
      let cancelled = false;
      const sweepStore: Store = {
        ...sweeper,
        transaction: async (work, guard) => {
          if (!cancelled) {
            cancelled = true;
            await cancel(drawId);
          }
          return transaction(work, guard);
        },
      };
      const swept = await releaseDueCooldowns(
        { ...h.deps, store: sweepStore },
        { coolingOffMs: COOLING_OFF_MS },
      );
      expect(cancelled).toBe(true);
      expect(swept).toEqual({ released: [], stopped: [], failed: [] });
      expect(await drawRow(drawId)).toEqual({ status: 'CANCELLED', loan_id: null });
      expect(await loans(drawId)).toEqual(['draw.cancelled']);
    });

    it('a cancel sent while the sweep releases the draw waits for it and is refused: one of the two, never both', async () => {
      const drawId = await dueDraw();
      // The sweep's unit stops once it holds the draw's and the line's locks; the borrower's cancel is sent then.
      const stall = stallOnce();
      const lineInTx = h.deps.coreStore.lineInTx;
      const coreStore = {
        ...h.deps.coreStore,
        lineInTx: async (...args: Parameters<typeof lineInTx>) => {
          const line = await lineInTx(...args);
          await stall.pause();
          return line;
        },
      };
      const sweep = releaseDueCooldowns({ ...h.deps, coreStore }, { coolingOffMs: COOLING_OFF_MS });
      await stall.paused;
      const cancelling = cancel(drawId).then(
        () => 'cancelled',
        (error: { code?: string }) => error.code ?? 'error',
      );
      const early = await Promise.race([cancelling, new Promise((r) => setTimeout(() => r('waiting'), 300))]);
      expect(early).toBe('waiting');
      stall.resume();
      const swept = await sweep;
      expect(await cancelling).toBe('LG_DRAW_NOT_HELD');
      expect(swept).toMatchObject({ released: [drawId], failed: [] });
      const row = await drawRow(drawId);
      expect(row.status).toBe('APPROVED');
      expect(await loans(drawId)).toEqual(['draw.released']);
    });
  });
