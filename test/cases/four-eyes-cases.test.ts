import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import type { TestApp } from '../helpers/app.js';
import { stallOnce } from '../helpers/stall.js';
import { appCrypto, verifyBook } from '../helpers/ledger-verify.js';
import { residentId } from '../core/harness.js';
import {
  CASE_STORES,
  client,
  largeDrawHeldOnScamSignal,
  MAKER_CHECKER_CAST,
  startCaseAppWith,
  type Person,
} from './helpers.js';

/**
 * A case outcome that needs a second person leaves the case ESCALATED with a pending change. When that change is
 * rejected or expires, the case goes back to a person (ASSIGNED to the maker) and its history says so, in the
 * rejection's or expiry's transaction, exactly once; an approval still resolves it.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`four eyes on case outcomes: rejected, expired (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let analyst: Person;
    let supervisor: Person;
    let seq = 0;
    beforeAll(async () => {
      ({ t, clock, analyst, supervisor } = await startCaseAppWith(await store.env(), MAKER_CHECKER_CAST));
    });
    afterAll(async () => t?.close());

    /** A large held draw's case, resolved RELEASE by the analyst: ESCALATED with a pending draw.release. */
    const escalatedRelease = async (): Promise<{
      caseId: string;
      changeId: string;
      expiresAt: number;
      lineId: string;
    }> => {
      seq += 1;
      const { caseId, lineId } = await largeDrawHeldOnScamSignal(t, {
        applicant: {
          name: '升级',
          nationalId: residentId('19790303', 300 + seq),
          phone: `1380000${String(3000 + seq)}`,
        },
        eventId: `call-esc-${seq}`,
      });
      const asked = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'RELEASE',
        note: 'customer called back',
      });
      expect(asked.statusCode, asked.body).toBe(202);
      expect(asked.json().case.state).toBe('ESCALATED');
      const change = asked.json().pendingChange;
      return { caseId, changeId: change.id, expiresAt: Date.parse(change.expiresAt), lineId };
    };

    const shown = async (caseId: string) => {
      const res = await client(t, analyst.key).get(`/v1/cases/${caseId}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const entries = (view: { history: { kind: string; payload: Record<string, unknown> }[] }, kind: string) =>
      view.history.filter((h) => h.kind === kind);
    const refusals = (view: { history: { kind: string }[] }) =>
      view.history.filter((h) => h.kind === 'case.change_rejected' || h.kind === 'case.change_expired');

    it('a checker rejects: the case goes back to the maker, its history names the checker and the note', async () => {
      const { caseId, changeId } = await escalatedRelease();
      const rejected = await client(t, supervisor.key).post(`/v1/changes/${changeId}/reject`, {
        note: 'the caller was coached; ask the customer in branch',
      });
      expect(rejected.statusCode, rejected.body).toBe(200);
      const view = await shown(caseId);
      expect(view).toMatchObject({ state: 'ASSIGNED', assignee: analyst.userId, outcome: null });
      expect(JSON.stringify(view.outcomeDetail ?? null)).not.toContain(`"pendingChangeId":"${changeId}"`);
      const [entry, ...more] = entries(view, 'case.change_rejected');
      expect(more).toEqual([]);
      expect(entry?.payload).toMatchObject({
        changeId,
        checker: `user:${supervisor.userId}`,
        // The checker's note is sealed at rest (the case's note below shows it): the record commits to it.
        noteHmac: expect.stringMatching(/^[0-9a-f]{64}$/),
        from: 'ESCALATED',
        to: 'ASSIGNED',
      });
      const note = view.notes.map((n: { text: string }) => n.text).join('\n');
      expect(note).toContain(`user:${supervisor.userId}`);
      expect(note).toContain('the caller was coached; ask the customer in branch');
      // The maker acts again: another outcome resolves the case.
      const cancelled = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'CANCEL',
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
      });
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      expect(cancelled.json().case.state).toBe('RESOLVED');
      expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
    });

    it('the expiry job expires the change: the case goes back to the maker, its breach counted once', async () => {
      const { caseId, changeId, expiresAt } = await escalatedRelease();
      clock.set(expiresAt + 1);
      const first = await t.app.cases.runJobs();
      expect(first.changesExpired).toBeGreaterThanOrEqual(1);
      const view = await shown(caseId);
      expect(view).toMatchObject({ state: 'ASSIGNED', assignee: analyst.userId, slaBreached: true });
      expect(entries(view, 'case.change_expired')).toHaveLength(1);
      expect(entries(view, 'case.change_expired')[0]?.payload).toMatchObject({ changeId, to: 'ASSIGNED' });
      expect(view.notes.map((n: { text: string }) => n.text).join('\n')).toMatch(/expired/);
      // The SLA was breached (and counted) while it waited; the next sweeps neither count it again nor re-escalate.
      await t.app.cases.runJobs();
      const again = await shown(caseId);
      expect(again.state).toBe('ASSIGNED');
      expect(entries(again, 'case.sla_breached')).toHaveLength(1);
      expect(refusals(again)).toHaveLength(1);
    });

    it('an approval still resolves the case as before', async () => {
      const { caseId, changeId } = await escalatedRelease();
      const approved = await client(t, supervisor.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(200);
      const view = await shown(caseId);
      expect(view).toMatchObject({
        state: 'RESOLVED',
        outcome: 'RELEASE',
        resolvedBy: `user:${analyst.userId}`,
        outcomeDetail: { approvedBy: `user:${supervisor.userId}`, pendingChangeId: changeId },
      });
      expect(refusals(view)).toEqual([]);
    });

    it('an approval that cannot be applied (the line frozen meanwhile) sends the case back too', async () => {
      const { caseId, changeId, lineId } = await escalatedRelease();
      await t.app.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
        automated: false,
        actor: 'test',
      });
      const approved = await client(t, supervisor.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(approved.statusCode).toBeGreaterThanOrEqual(400);
      expect((await client(t).get(`/v1/changes/${changeId}`)).json().state).toBe('FAILED');
      const view = await shown(caseId);
      expect(view).toMatchObject({ state: 'ASSIGNED', assignee: analyst.userId });
      expect(entries(view, 'case.change_failed')[0]?.payload).toMatchObject({
        changeId,
        checker: `user:${supervisor.userId}`,
      });
    });

    it('a case closed meanwhile stays closed; its history still records the rejection', async () => {
      const { caseId, changeId } = await escalatedRelease();
      const cancelled = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'CANCEL',
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
      });
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      const rejected = await client(t, supervisor.key).post(`/v1/changes/${changeId}/reject`, {
        note: 'already cancelled',
      });
      expect(rejected.statusCode, rejected.body).toBe(200);
      const view = await shown(caseId);
      expect(view).toMatchObject({ state: 'RESOLVED', outcome: 'CANCEL' });
      expect(entries(view, 'case.change_rejected')).toHaveLength(1);
    });

    it('a rejection and the expiry job racing update the case once', async () => {
      // The job reads the change as due, then the checker's rejection commits before the job's transaction.
      {
        const { caseId, changeId, expiresAt } = await escalatedRelease();
        const stall = stallOnce();
        const db = t.app.store;
        const transaction = db.transaction.bind(db);
        db.transaction = (async (...args: Parameters<typeof transaction>) => {
          if (args[1] === undefined) await stall.pause();
          return transaction(...args);
        }) as typeof db.transaction;
        try {
          clock.set(expiresAt);
          const jobs = t.app.cases.service.fourEyes.expireDue();
          await stall.paused;
          db.transaction = transaction;
          clock.set(expiresAt - 1);
          const rejected = await client(t, supervisor.key).post(`/v1/changes/${changeId}/reject`, {
            note: 'no',
          });
          expect(rejected.statusCode, rejected.body).toBe(200);
          clock.set(expiresAt);
          stall.resume();
          expect(await jobs).toBe(0);
        } finally {
          db.transaction = transaction;
        }
        const view = await shown(caseId);
        expect((await client(t).get(`/v1/changes/${changeId}`)).json().state).toBe('REJECTED');
        expect(view.state).toBe('ASSIGNED');
        expect(refusals(view).map((h) => h.kind)).toEqual(['case.change_rejected']);
      }
      // At the expiry instant: two checkers rejecting and the job expiring at once; the change expires once.
      {
        const { caseId, changeId, expiresAt } = await escalatedRelease();
        clock.set(expiresAt);
        const answers = await Promise.all([
          client(t, supervisor.key).post(`/v1/changes/${changeId}/reject`, { note: 'late' }),
          t.app.cases.service.fourEyes.expireDue(),
          client(t, supervisor.key).post(`/v1/changes/${changeId}/reject`, { note: 'late again' }),
        ]);
        expect(answers[0].statusCode).toBe(409);
        expect(answers[2].statusCode).toBe(409);
        expect((await client(t).get(`/v1/changes/${changeId}`)).json().state).toBe('EXPIRED');
        const view = await shown(caseId);
        expect(view.state).toBe('ASSIGNED');
        expect(refusals(view).map((h) => h.kind)).toEqual(['case.change_expired']);
        expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
      }
    });

    it('the ledger names every note the refusals and resolutions wrote: verify proves them, and finds one deleted', async () => {
      // Run last: the cases above were rejected, expired, failed on approval and resolved, each writing a note.
      const clean = await verifyBook(t, appCrypto(t));
      expect(clean.facts).toMatchObject({ ok: true, mismatches: [], unrecordedNotes: 0 });
      const notes = await t.app.store.db
        .selectFrom('case_notes')
        .select(['id', 'author'])
        .where('author', '=', 'system')
        .execute();
      // Rejections, expiries and the failed approval each sent their case back with a system note.
      expect(notes.length).toBeGreaterThanOrEqual(4);
      const gone = notes[0]?.id ?? '';
      await t.app.store.db.deleteFrom('case_notes').where('id', '=', gone).execute();
      const found = await verifyBook(t, appCrypto(t));
      expect(found.facts?.mismatches).toEqual([
        { table: 'case_notes', id: gone, field: '(row)', row: 'missing', ledger: 'present' },
      ]);
    });
  });
