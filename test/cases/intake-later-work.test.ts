import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, startCaseApp } from './helpers.js';

/**
 * Work for a person that a draw becomes well after it was made, in a process that has been running (and sweeping)
 * all along, not only in one whose first sweep looks back days: a draw the cooling-off job stops (its line frozen
 * meanwhile) becomes HOLD a cooling-off period later; a CHALLENGE draw with no step-up result is held once its window
 * is over. Each gets its HELD_DRAW case.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const COOLING_OFF_MS = 2 * HOUR;
const CHALLENGE_WINDOW_MS = 15 * MIN;

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`work a draw becomes later (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let seq = 40;

    beforeAll(async () => {
      ({ t, clock } = await startCaseApp({
        LINEGUARD_COOLING_OFF_MS: String(COOLING_OFF_MS),
        LINEGUARD_CHALLENGE_WINDOW_MS: String(CHALLENGE_WINDOW_MS),
        ...(await store.env()),
      }));
      await t.app.cases.runJobs();
    });
    afterAll(async () => t?.close());

    const line = async () => {
      const applied = await client(t).post('/v1/applications', {
        applicant: { name: '测试', nationalId: residentId('19860101', ++seq), phone: '13900004444' },
        attributes: STRONG_APPLICANT,
      });
      return { lineId: applied.json().line.id as string, borrowerId: applied.json().borrowerId as string };
    };
    const draw = (lineId: string) =>
      client(t).post(`/v1/lines/${lineId}/draws`, {
        amountMinor: 100_000,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
    const casesOf = (subjectId: string) =>
      t.app.store.db.selectFrom('cases').select(['type']).where('subject_id', '=', subjectId).execute();

    it('opens the case of a cooling-off draw in the job run that stops it', async () => {
      const { lineId } = await line();
      expect((await draw(lineId)).statusCode).toBe(201);
      const cooling = (await draw(lineId)).json();
      expect(cooling.status).toBe('COOLDOWN');
      // The process's jobs run all along: an hour later (nothing due yet)…
      clock.advance(HOUR);
      expect((await t.app.cases.runJobs()).cooldownsStopped).toBe(0);
      // …the line is frozen, and when the cooling-off ends the job stops the draw instead of releasing it.
      await t.app.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'test',
      });
      clock.advance(HOUR + 1_000);
      expect((await t.app.cases.runJobs()).cooldownsStopped).toBe(1);
      expect(await casesOf(cooling.drawId)).toEqual([{ type: 'HELD_DRAW' }]);
    });

    it('opens the case of a CHALLENGE draw once its window is over with no step-up result', async () => {
      const { lineId, borrowerId } = await line();
      await client(t).post('/v1/events', {
        eventId: `call-${++seq}`,
        type: 'call_in_progress',
        occurredAt: new Date(clock.now()).toISOString(),
        userId: borrowerId,
      });
      const challenged = (await draw(lineId)).json();
      expect(challenged.status).toBe('CHALLENGE');
      // Swept while the borrower may still answer the step-up: no case yet.
      clock.advance(MIN);
      await t.app.cases.runJobs();
      expect(await casesOf(challenged.drawId)).toEqual([]);
      clock.advance(CHALLENGE_WINDOW_MS);
      await t.app.cases.runJobs();
      expect(await casesOf(challenged.drawId)).toEqual([{ type: 'HELD_DRAW' }]);
    });
  });
