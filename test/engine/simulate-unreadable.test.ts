import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { formatReport } from '../../src/cli/commands/strategy.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';

/**
 * A simulation replays the stored (sealed) contexts of a period. One that no held key opens (altered, copied from
 * another decision's row, or sealed under a key since dropped) cannot be replayed: the simulation runs over the rest
 * and names the ones it left out (a count, and their ids up to subjectsMax), so a risk analyst sees what its figures
 * do not cover — neither a failed simulation nor a silently smaller one.
 */
const STORES = appStores('simulate_unreadable');
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const DAY = '2026-11-02';

for (const store of STORES)
  describe.skipIf(!store.enabled)(`a simulation over a decision it cannot read (${store.name})`, () => {
    const clock = new ManualClock(T0);
    let t: TestApp;
    let n = 0;
    const post = (url: string, payload: object) =>
      t.server.inject({ method: 'POST', url, headers: adminHeaders(`su-${++n}`), payload });
    const decisionIds: string[] = [];

    beforeAll(async () => {
      t = await startTestApp(await store.env(), { clock });
      for (let i = 0; i < 4; i++) {
        clock.advance(1000);
        const applied = await post('/v1/applications', {
          applicant: { name: '孙丽', nationalId: residentId('19860606', 500 + i), phone: '13900005555' },
          attributes: STRONG_APPLICANT,
        });
        expect(applied.statusCode, applied.body).toBe(201);
        decisionIds.push(applied.json<{ decisionId: string }>().decisionId);
      }
    });
    afterAll(async () => t?.close());

    /**
     * Copies decision `from`'s sealed context into `to`'s row: bound to `from`, it no longer opens as `to`'s. Answers
     * what puts the row back.
     */
    async function spoil(from: string, to: string): Promise<() => Promise<void>> {
      const context = async (id: string) =>
        (
          await t.app.store.db
            .selectFrom('decisions')
            .select('context')
            .where('id', '=', id)
            .executeTakeFirstOrThrow()
        ).context;
      const set = (value: string) =>
        t.app.store.db.updateTable('decisions').set({ context: value }).where('id', '=', to).execute();
      const original = await context(to);
      await set(await context(from));
      return async () => {
        await set(original);
      };
    }

    const simulate = (extra: object = {}) =>
      post('/v1/strategies/application/simulate', { from: DAY, to: DAY, version: 1, ...extra });

    it('replays the rest and names the decisions it could not read', async () => {
      const [first, second, third] = decisionIds as [string, string, string, string];
      const spoiled = [await spoil(first, second), await spoil(first, third)];
      const partial = await simulate();
      expect(partial.statusCode, partial.body).toBe(200);
      const report = partial.json();
      expect(report).toMatchObject({ decisions: 2, contextErrors: 0, truncated: false });
      expect(report.unreadable).toEqual({ count: 2, decisionIds: [second, third] });
      // The figures are over what was replayed: every approval stays an approval, out of two.
      expect(report.outcomeMatrix.APPROVE.APPROVE).toBe(2);
      expect(report.approvalRate).toEqual({ before: 1, after: 1 });
      // `lineguard strategy simulate` says so too, next to how many it replayed.
      expect(formatReport(report).split('\n')[1]).toMatch(
        new RegExp(`^left out 2 decisions .*LG_SEALED_DATA_UNREADABLE.*: ${second}, ${third}$`),
      );

      // The ids are a subject list like the others: cut at subjectsMax, the count still whole.
      const capped = (await simulate({ subjectsMax: 1 })).json();
      expect(capped.unreadable.count).toBe(2);
      expect(capped.unreadable.decisionIds).toHaveLength(1);
      expect(capped.truncated).toBe(true);

      for (const restore of spoiled) await restore();
      const whole = await simulate();
      expect(whole.statusCode, whole.body).toBe(200);
      expect(whole.json()).toMatchObject({ decisions: 4, unreadable: { count: 0, decisionIds: [] } });
    });
  });
