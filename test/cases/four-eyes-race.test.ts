import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { ManualClock } from '../../src/domain/clock.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { stallOnce } from '../helpers/stall.js';
import { residentId } from '../core/harness.js';
import { caseRows } from '../../src/store/cases-rows.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';

/**
 * Four eyes against the clock and against itself: a change takes effect at most once, only if approved before it
 * expires, and the ledger says which of approval and expiry happened.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`four-eyes approvals racing expiry and each other (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let riskAnalyst: Person;
    let supervisor: Person;
    let adminB: Person;
    let seq = 0;
    beforeAll(async () => {
      ({ t, clock } = await startCaseApp(await store.env()));
      riskAnalyst = await person(t, '钱红', 'risk_analyst');
      supervisor = await person(t, '赵敏', 'supervisor');
      adminB = await person(t, '孙立', 'admin');
    });
    afterAll(async () => t?.close());

    /** A line and a pending limit increase on it (above the four-eyes threshold). */
    const proposedIncrease = async (): Promise<{ lineId: string; changeId: string; expiresAt: number }> => {
      seq += 1;
      const line = (
        await client(t).post('/v1/applications', {
          applicant: {
            name: '并发',
            nationalId: residentId('19810101', 700 + seq),
            phone: `1390000${String(7000 + seq)}`,
          },
          attributes: STRONG_APPLICANT,
        })
      ).json().line;
      const asked = await client(t, riskAnalyst.key).post(`/v1/lines/${line.id}/actions`, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: 20_000_000,
        note: 'race',
      });
      expect(asked.statusCode, asked.body).toBe(202);
      const change = asked.json().pendingChange;
      return { lineId: line.id, changeId: change.id, expiresAt: Date.parse(change.expiresAt) };
    };

    const increasesOn = async (lineId: string): Promise<number> =>
      (await client(t).get(`/v1/lines/${lineId}`))
        .json()
        .recentActions.filter((a: { type: string }) => a.type === 'LIMIT_INCREASE').length;

    const ledgerKinds = async (changeId: string): Promise<string[]> =>
      (await caseRows.ledgerOf(t.app.store.db, changeId)).map((e) => e.kind);

    /** Runs `during` while an approval has found the change pending but not yet begun its transaction. */
    const approvalStalledAfterItsCheck = async (
      changeId: string,
      during: () => Promise<void>,
    ): Promise<LightMyRequestResponse> => {
      const stall = stallOnce();
      const { store: db } = t.app;
      const transaction = db.transaction.bind(db);
      // Only a keyed write's transaction (the approval's): background work on the store passes.
      db.transaction = (async (...args: Parameters<typeof transaction>) => {
        if (args[1] !== undefined) await stall.pause();
        return transaction(...args);
      }) as typeof db.transaction;
      try {
        const approval = client(t, supervisor.key).post(`/v1/changes/${changeId}/approve`, {});
        await stall.paused;
        await during();
        stall.resume();
        return await approval;
      } finally {
        db.transaction = transaction;
      }
    };

    it('approves one millisecond before the expiry and refuses at the expiry instant', async () => {
      const early = await proposedIncrease();
      clock.set(early.expiresAt - 1);
      const approved = await client(t, supervisor.key).post(`/v1/changes/${early.changeId}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(200);
      const late = await proposedIncrease();
      clock.set(late.expiresAt);
      const refused = await client(t, supervisor.key).post(`/v1/changes/${late.changeId}/approve`, {});
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.code).toBe('LG_CHANGE_EXPIRED');
      expect(await increasesOn(late.lineId)).toBe(0);
    });

    it('does not apply an approval whose transaction begins after the change expired', async () => {
      const { lineId, changeId, expiresAt } = await proposedIncrease();
      // The checker's request finds the change pending; by the time its transaction runs, the change has expired.
      const answer = await approvalStalledAfterItsCheck(changeId, async () => {
        clock.set(expiresAt);
      });
      expect(answer.statusCode, answer.body).toBe(409);
      expect(answer.json().error.code).toBe('LG_CHANGE_EXPIRED');
      expect(await increasesOn(lineId)).toBe(0);
      const change = (await client(t).get(`/v1/changes/${changeId}`)).json();
      expect(change).toMatchObject({ state: 'EXPIRED', checker: null });
      expect(await ledgerKinds(changeId)).toEqual(['change.proposed', 'change.expired']);

      // The same for an operation applied after its approval commits (a list entry).
      const entry = {
        list: 'black',
        entityType: 'device',
        value: `late-${store.name}`,
        reason: 'farm',
        source: 'analyst',
      };
      const listed = (await client(t, riskAnalyst.key).post('/v1/lists', entry)).json().pendingChange;
      const late = await approvalStalledAfterItsCheck(listed.id, async () => {
        clock.set(Date.parse(listed.expiresAt));
      });
      expect(late.json().error.code).toBe('LG_CHANGE_EXPIRED');
      const hits = await client(t).get(`/v1/lists/check?entityType=device&value=${entry.value}`);
      expect(hits.json().hits).toEqual([]);
    });

    it('the expiry job running between an approval’s check and its transaction wins; the change never applies', async () => {
      const { lineId, changeId, expiresAt } = await proposedIncrease();
      const answer = await approvalStalledAfterItsCheck(changeId, async () => {
        clock.set(expiresAt + 1);
        expect((await t.app.cases.runJobs()).changesExpired).toBe(1);
      });
      expect(answer.statusCode, answer.body).toBe(409);
      expect(['LG_CHANGE_EXPIRED', 'LG_CHANGE_NOT_PENDING']).toContain(answer.json().error.code);
      expect(await increasesOn(lineId)).toBe(0);
      expect((await client(t).get(`/v1/changes/${changeId}`)).json().state).toBe('EXPIRED');
      expect(await ledgerKinds(changeId)).toEqual(['change.proposed', 'change.expired']);
    });

    it('two checkers, and one checker twice, approving at once apply the change once', async () => {
      for (const checkers of [
        [supervisor, adminB],
        [supervisor, supervisor],
      ]) {
        const { lineId, changeId } = await proposedIncrease();
        const answers = await Promise.all(
          checkers.map((c) => client(t, c.key).post(`/v1/changes/${changeId}/approve`, {})),
        );
        expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
        expect(answers.find((a) => a.statusCode === 409)?.json().error.code).toBe('LG_CHANGE_NOT_PENDING');
        expect(await increasesOn(lineId)).toBe(1);
        expect(await ledgerKinds(changeId)).toEqual(['change.proposed', 'change.approved']);
      }
    });
  });
