import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { releaseDueCooldowns } from '../../src/core/index.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { stallOnce } from '../helpers/stall.js';
import { residentId } from '../core/harness.js';
import { client, startCaseApp, T0 } from '../cases/helpers.js';

/**
 * The case intake's safety-net sweep across two processes on one PostgreSQL: process b commits work for a person and
 * "crashes" before its immediate hook opens the case (the hook never runs); process a's sweep must open it, whatever
 * b's clock said and however late b's unit committed. b's clock lags a's by an hour, far beyond any re-read overlap by
 * time. The case jobs timer is off: the test sweeps where the timer would have.
 */
const HOUR = 3_600_000;
const MIN = 60_000;
const COOLING_OFF_MS = 10 * MIN;
/** Every automated restriction is held for a person (the blast-radius guard admits none). */
const ENV = {
  LINEGUARD_GUARD_MAX_FRACTION: '0',
  LINEGUARD_GUARD_MIN_PER_WINDOW: '0',
  LINEGUARD_COOLING_OFF_MS: String(COOLING_OFF_MS),
};

describe.skipIf(!TEST_DATABASE_URL)('case intake sweep across processes (PostgreSQL)', () => {
  let a: TestApp;
  let b: TestApp;
  let aClock: ManualClock;
  let bClock: ManualClock;
  let seq = 0;
  let alertUnits = 0;

  beforeAll(async () => {
    const env = {
      ...ENV,
      LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'intake_sweep'),
    };
    ({ t: a, clock: aClock } = await startCaseApp(env, 81));
    ({ t: b, clock: bClock } = await startCaseApp(env, 82));
    aClock.set(T0 + HOUR);
    // b stops between each commit and its immediate hook (kill -9, a crash, a deploy): the hook never runs.
    b.app.cases.service.intakeSubject = async () => 0;
    // a has swept before (its first sweep looks back days): from now on it sweeps from where it left off.
    await a.app.cases.service.intake();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const applicant = () => ({
    name: '测试',
    nationalId: residentId('19800101', 700 + ++seq),
    phone: '13900006666',
  });

  /** A sweep at process a, a little later by its clock. */
  const sweepAtA = async () => {
    aClock.advance(1_000);
    return a.app.cases.service.intake();
  };

  const casesOf = (subjectId: string) =>
    a.app.store.db
      .selectFrom('cases')
      .select(['type', 'subject_id'])
      .where('subject_id', '=', subjectId)
      .execute();

  /** A new borrower's line at process b. */
  const lineAtB = async (): Promise<{ lineId: string; borrowerId: string }> => {
    const applied = await client(b).post('/v1/applications', {
      applicant: applicant(),
      attributes: STRONG_APPLICANT,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    return { lineId: applied.json().line.id as string, borrowerId: applied.json().borrowerId as string };
  };

  const drawAtB = (lineId: string, amountMinor: number) =>
    client(b).post(`/v1/lines/${lineId}/draws`, {
      amountMinor,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
    });

  it('opens the case of a REVIEW application the lagging process committed', async () => {
    const referred = await client(b).post('/v1/applications', {
      applicant: applicant(),
      attributes: { ...STRONG_APPLICANT, inquiries30d: 4 },
    });
    expect(referred.json().outcome).toBe('REVIEW');
    const applicationId = referred.json().applicationId as string;
    expect(await casesOf(applicationId)).toEqual([]);
    await sweepAtA();
    expect(await casesOf(applicationId)).toEqual([{ type: 'REVIEW_APPLICATION', subject_id: applicationId }]);
  });

  it('opens the case of a draw the lagging process held', async () => {
    const { lineId, borrowerId } = await lineAtB();
    // A call in progress on the borrower (the safe-account scam's sign) just before a large draw: it is held.
    await client(b).post('/v1/events', {
      eventId: `call-${++seq}`,
      type: 'call_in_progress',
      occurredAt: new Date(bClock.now()).toISOString(),
      userId: borrowerId,
    });
    const drawn = (await drawAtB(lineId, 2_500_000)).json();
    expect(drawn.status).toBe('HOLD');
    await sweepAtA();
    expect(await casesOf(drawn.drawId)).toEqual([{ type: 'HELD_DRAW', subject_id: drawn.drawId }]);
  });

  it('opens the case of a CHALLENGE draw of the lagging process, its window over by the sweeping clock', async () => {
    const { lineId, borrowerId } = await lineAtB();
    // A call in progress, then a small draw: b asks for step-up verification, and no result comes.
    await client(b).post('/v1/events', {
      eventId: `call-${++seq}`,
      type: 'call_in_progress',
      occurredAt: new Date(bClock.now()).toISOString(),
      userId: borrowerId,
    });
    const challenged = (await drawAtB(lineId, 100_000)).json();
    expect(challenged.status).toBe('CHALLENGE');
    await sweepAtA();
    expect(await casesOf(challenged.drawId)).toEqual([{ type: 'HELD_DRAW', subject_id: challenged.drawId }]);
  });

  it('opens the case of an automated restriction the lagging process’s guard held', async () => {
    const { lineId } = await lineAtB();
    const held = await b.app.core.applyLineAction(lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_SCAM_TRANSFER_PATTERN'],
      automated: true,
      actor: 'monitor:SCAM_SAFE_ACCOUNT_TRANSFER',
    });
    expect(held.outcome).toBe('REVIEW');
    await sweepAtA();
    expect(await casesOf(held.actionId)).toEqual([{ type: 'GUARD_HELD_ACTION', subject_id: held.actionId }]);
  });

  /** Open alerts stored by one unit at b that did not open their cases with them (the monitor's follow-up does). */
  const alertsAtB = async (count: number): Promise<string[]> => {
    const unit = `alert-lag-${++alertUnits}`;
    const ids = Array.from({ length: count }, (_, i) => `${unit}-${String(i).padStart(4, '0')}`);
    await b.app.store.transaction(async (tx) => {
      await tx
        .insertInto('monitor_alerts')
        .values(
          ids.map((alertId) => ({
            alert_id: alertId,
            typology_id: 'SCAM_SAFE_ACCOUNT_TRANSFER',
            typology_version: 1,
            severity: 'high',
            status: 'OPEN',
            user_id: `user-${alertId}`,
            line_id: null,
            event_id: `event-${alertId}`,
            occurred_at: bClock.now(),
            created_at: bClock.now(),
            status_at: null,
            reasons: '["R_SCAM_TRANSFER_PATTERN"]',
            evidence: '{"rules":["transfer"]}',
            actions: '[]',
          })),
        )
        .execute();
    });
    return ids;
  };

  it('opens the case of an open alert the lagging process wrote without its case', async () => {
    const [alertId = ''] = await alertsAtB(1);
    await sweepAtA();
    expect(await casesOf(alertId)).toEqual([{ type: 'ALERT', subject_id: alertId }]);
  });

  it('pages through more subjects than one read holds, all of one unit', async () => {
    // One unit, one transaction id, one more alert than a page of the sweep holds (FOLLOW_PAGE_SUBJECTS, 1,000).
    const ids = await alertsAtB(1_001);
    expect(await sweepAtA()).toBe(1_001);
    const opened = await a.app.store.db
      .selectFrom('cases')
      .select('subject_id')
      .where('type', '=', 'ALERT')
      .where('subject_id', 'in', ids)
      .execute();
    expect(opened).toHaveLength(1_001);
  });

  it('opens the case of a cooling-off draw the lagging process’s job stopped after a sweep had read it', async () => {
    const { lineId } = await lineAtB();
    expect((await drawAtB(lineId, 100_000)).statusCode).toBe(201);
    const cooling = (await drawAtB(lineId, 100_000)).json();
    expect(cooling.status).toBe('COOLDOWN');
    // a reads past the draw while it cools off (no one's work yet)…
    await sweepAtA();
    // …the line is frozen meanwhile: when the cooling-off ends, b's job stops the draw (HOLD) instead of releasing it,
    // and b stops before anything opens the case.
    await b.app.core.applyLineAction(lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_UTILISATION_HIGH'],
      automated: false,
      actor: 'test',
    });
    bClock.advance(COOLING_OFF_MS + 1_000);
    const swept = await releaseDueCooldowns(b.app.core.deps, { coolingOffMs: COOLING_OFF_MS });
    expect(swept.stopped).toEqual([cooling.drawId]);
    await sweepAtA();
    expect(await casesOf(cooling.drawId)).toEqual([{ type: 'HELD_DRAW', subject_id: cooling.drawId }]);
  });

  it('opens the case of a unit that committed minutes after its stamp, when the sweep had read past it', async () => {
    // The clocks agree here. b's application unit stamps its rows and stays open (a stalled process, a slow commit)…
    bClock.set(aClock.now());
    const stall = stallOnce();
    const store = b.app.store;
    const transaction = store.transaction.bind(store);
    store.transaction = ((work, guard) =>
      guard === undefined
        ? transaction(work)
        : transaction(async (tx) => {
            const done = await work(tx);
            await stall.pause();
            return done;
          }, guard)) as typeof store.transaction;
    try {
      const referring = client(b).post('/v1/applications', {
        applicant: applicant(),
        attributes: { ...STRONG_APPLICANT, inquiries30d: 4 },
      });
      await stall.paused;
      // …while a sweeps, minutes later by its clock, twice: the second reads from the first on.
      aClock.advance(5 * MIN);
      await sweepAtA();
      aClock.advance(5 * MIN);
      await sweepAtA();
      stall.resume();
      const referred = await referring;
      expect(referred.json().outcome).toBe('REVIEW');
      const applicationId = referred.json().applicationId as string;
      await sweepAtA();
      expect(await casesOf(applicationId)).toEqual([
        { type: 'REVIEW_APPLICATION', subject_id: applicationId },
      ]);
    } finally {
      store.transaction = transaction;
    }
  });
});
