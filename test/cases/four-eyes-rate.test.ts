import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';

/**
 * Repricing a line changes what its borrower pays on every new draw: a person's raise of the rate waits for a second
 * person (`line.rate_change`), as a large limit increase or a fraud lift does; a cut, which only lowers what the
 * borrower pays, applies at once. Whether it is a raise is judged on the line's rate under the line's lock: a "cut"
 * that another process's cut turned into a raise before it was written is proposed, never applied on one word.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`four eyes on a line's rate (${store.name})`, () => {
    let t: TestApp;
    let riskAnalyst: Person;
    let admin: Person;
    let supervisor: Person;
    let service: Person;
    let seq = 300;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      riskAnalyst = await person(t, '钱红', 'risk_analyst');
      admin = await person(t, '孙伟', 'admin');
      supervisor = await person(t, '赵敏', 'supervisor');
      service = await person(t, 'lender-backend', 'service');
    });
    afterAll(async () => t?.close());

    const openLine = async (): Promise<{ id: string; annualRate: number }> => {
      const applied = await client(t, service.key).post('/v1/applications', {
        applicant: { name: '韩梅', nationalId: residentId('19850505', ++seq), phone: '13900005555' },
        attributes: STRONG_APPLICANT,
      });
      expect(applied.statusCode, applied.body).toBe(201);
      return applied.json().line as { id: string; annualRate: number };
    };
    const rateOf = async (lineId: string) =>
      ((await client(t).get(`/v1/lines/${lineId}`)).json() as { annualRate: number }).annualRate;
    const reprice = (as: Person, lineId: string, annualRate: number) =>
      client(t, as.key).post(`/v1/lines/${lineId}/actions`, {
        type: 'RATE_CHANGE',
        reasons: ['R_LIMIT_REVIEW'],
        annualRate,
        note: 'repriced at review',
      });
    const ledgerKinds = async (subjectId: string) =>
      (
        await t.app.store.db
          .selectFrom('ledger_entries')
          .select('kind')
          .where('subject_id', '=', subjectId)
          .orderBy('seq')
          .execute()
      ).map((r) => r.kind);

    it("holds a person's raise of the rate for a second person, who applies it; the maker cannot approve it", async () => {
      const line = await openLine();
      const raised = Math.round((line.annualRate + 0.01) * 10_000) / 10_000;
      const asked = await reprice(admin, line.id, raised);
      expect(asked.statusCode, asked.body).toBe(202);
      const change = asked.json().pendingChange;
      expect(change).toMatchObject({
        operation: 'line.rate_change',
        state: 'PENDING',
        subjectId: line.id,
        maker: `user:${admin.userId}`,
        diff: { lineId: line.id, type: 'RATE_CHANGE', annualRate: raised },
      });
      expect(await rateOf(line.id)).toBe(line.annualRate);
      const own = await client(t, admin.key).post(`/v1/changes/${change.id}/approve`, {});
      expect(own.statusCode).toBe(403);
      expect(own.json().error.code).toBe('LG_SELF_APPROVAL');
      const approved = await client(t, supervisor.key).post(`/v1/changes/${change.id}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(200);
      expect(approved.json()).toMatchObject({ state: 'APPROVED', checker: `user:${supervisor.userId}` });
      expect(await rateOf(line.id)).toBe(raised);
      const after = (await client(t).get(`/v1/lines/${line.id}`)).json();
      expect(after.recentActions[0]).toMatchObject({
        type: 'RATE_CHANGE',
        actor: `user:${admin.userId}`,
      });
      expect(await ledgerKinds(change.id)).toEqual(['change.proposed', 'change.approved']);
      expect(await ledgerKinds(line.id)).toContain('line.action');
    });

    it('applies a cut of the rate at once: it only lowers what the borrower pays', async () => {
      const line = await openLine();
      const cut = Math.round((line.annualRate - 0.02) * 10_000) / 10_000;
      const applied = await reprice(riskAnalyst, line.id, cut);
      expect(applied.statusCode, applied.body).toBe(201);
      expect(applied.json()).toMatchObject({ type: 'RATE_CHANGE', newAnnualRate: cut });
      expect(await rateOf(line.id)).toBe(cut);
    });

    it('judges a raise when it is proposed: one over the cap is refused, and nothing is proposed', async () => {
      const line = await openLine();
      const before = (await client(t).get('/v1/changes?state=PENDING')).json().items.length as number;
      const over = await reprice(riskAnalyst, line.id, 0.3);
      expect(over.statusCode, over.body).toBe(422);
      expect(over.json().error.code).toBe('LG_APR_CAP_EXCEEDED');
      expect((await client(t).get('/v1/changes?state=PENDING')).json().items).toHaveLength(before);
    });

    it('proposes a "cut" that became a raise under the lock: another process cut the rate further first', async () => {
      const line = await openLine();
      const mine = Math.round((line.annualRate - 0.01) * 10_000) / 10_000;
      const theirs = Math.round((line.annualRate - 0.03) * 10_000) / 10_000;
      // The gate reads the line at its granted rate (a cut: no second person); before the action's keyed
      // transaction another process's cut commits, so the action would raise the rate from theirs to mine.
      const db = t.app.store;
      const transaction = db.transaction.bind(db);
      let armed = true;
      db.transaction = (async (...args: Parameters<typeof transaction>) => {
        if (armed && args[1] !== undefined) {
          armed = false;
          await t.app.core.applyLineAction(line.id, {
            type: 'RATE_CHANGE',
            reasons: ['R_LIMIT_REVIEW'],
            annualRate: theirs,
            automated: false,
            actor: 'other-process',
          });
        }
        return transaction(...args);
      }) as typeof db.transaction;
      try {
        const asked = await reprice(riskAnalyst, line.id, mine);
        expect(asked.statusCode, asked.body).toBe(202);
        expect(asked.json().pendingChange).toMatchObject({ operation: 'line.rate_change' });
      } finally {
        db.transaction = transaction;
      }
      expect(await rateOf(line.id)).toBe(theirs);
    });
  });

describe('LINEGUARD_FOUR_EYES_RATE_RAISE_BPS', () => {
  let t: TestApp;
  let riskAnalyst: Person;
  beforeAll(async () => {
    ({ t } = await startCaseApp({ LINEGUARD_FOUR_EYES_RATE_RAISE_BPS: '100' }));
    riskAnalyst = await person(t, '钱红', 'risk_analyst');
  });
  afterAll(async () => t?.close());

  it('lets a raise of at most the threshold apply at once and holds a larger one', async () => {
    const line = (
      await client(t).post('/v1/applications', {
        applicant: { name: '韩梅', nationalId: residentId('19850505', 901), phone: '13900005555' },
        attributes: STRONG_APPLICANT,
      })
    ).json().line as { id: string; annualRate: number };
    const to = (bps: number) => Math.round(line.annualRate * 10_000 + bps) / 10_000;
    const post = (annualRate: number) =>
      client(t, riskAnalyst.key).post(`/v1/lines/${line.id}/actions`, {
        type: 'RATE_CHANGE',
        reasons: ['R_LIMIT_REVIEW'],
        annualRate,
      });
    const small = await post(to(100));
    expect(small.statusCode, small.body).toBe(201);
    const large = await post(to(201));
    expect(large.statusCode, large.body).toBe(202);
    expect(large.json().pendingChange.operation).toBe('line.rate_change');
  });
});
