import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LgError } from '../../src/domain/errors.js';
import { REASON_CODES } from '../../src/domain/reason-codes.js';
import { openStore, type Store } from '../../src/store/db.js';
import { createCoreServices, releaseDueCooldowns, releaseHeldDrawInTx } from '../../src/core/index.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp } from '../helpers/app.js';
import { ADULT, makeCore, openLine, type Harness } from './harness.js';
import { STORE_FACTORIES, decisionContextOf } from '../helpers/stores.js';
import { alertToRow } from '../../src/store/monitor.js';

/** Issue 12, "a draw on a delinquent line is approved": the core supplies the line's facts, and M1+ takes no draw. */

const DRAW = { amountMinor: 100_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' } as const;

async function makeDelinquent(store: Store, lineId: string, dpd: number, bucket: string): Promise<void> {
  // What the daily job leaves on a line whose oldest instalment is `dpd` days late (the review job has not run yet).
  await store.db.updateTable('credit_lines').set({ dpd, bucket }).where('id', '=', lineId).execute();
}

describe('draws on a delinquent line (core hard rule)', () => {
  let store: Store;
  let h: Harness;
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
  });
  afterEach(async () => store.close());

  it("declines an M2 line's draw with a borrower-readable reason, whatever the strategy says", async () => {
    const lineId = await openLine(h);
    await makeDelinquent(store, lineId, 45, 'M2');
    h.engine.script.draw = () => ({ outcome: 'APPROVE' });
    const error = await h.core.requestDraw(lineId, DRAW).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LgError);
    const lg = error as LgError;
    expect(lg.code).toBe('LG_DRAW_DECLINED');
    const details = lg.details as { reasons: string[]; borrowerReasons: { code: string; text: string }[] };
    expect(details.reasons[0]).toBe('R_DAYS_PAST_DUE');
    expect(details.borrowerReasons[0]).toMatchObject({
      code: 'R_DAYS_PAST_DUE',
      text: REASON_CODES.R_DAYS_PAST_DUE?.zh,
    });
    const line = await h.core.getLine(lineId);
    expect(line.outstandingPrincipalMinor).toBe(0);
  });

  it('hands the strategy the line facts it reads: days past due, bucket, outstanding, last draw', async () => {
    const lineId = await openLine(h);
    await h.core.requestDraw(lineId, DRAW);
    h.clock.advance(30 * 60_000);
    await h.core.requestDraw(lineId, DRAW);
    const draws = h.engine.calls.filter((c) => c.strategyId === 'draw');
    expect(draws[1]?.context).toMatchObject({
      lineStatus: 'ACTIVE',
      daysPastDue: 0,
      bucket: 'M0',
      outstandingMinor: DRAW.amountMinor,
      minutesSinceLastDraw: 30,
    });
  });

  it("a monitor signal named like a core fact cannot contradict the core's own value", async () => {
    const forged = createCoreServices({
      ...h.deps,
      drawSignals: async () => ({ daysPastDue: 0, bucket: 'M0', blacklisted: false, drawsLast24h: 0 }),
    });
    const lineId = await openLine({ ...h, core: forged });
    await forged.requestDraw(lineId, DRAW);
    await makeDelinquent(store, lineId, 45, 'M2');
    await expect(forged.requestDraw(lineId, DRAW)).rejects.toMatchObject({ code: 'LG_DRAW_DECLINED' });
    const last = h.engine.calls.filter((c) => c.strategyId === 'draw').at(-1);
    expect(last?.context).toMatchObject({ daysPastDue: 45, bucket: 'M2', drawsLast24h: 1 });
  });

  it('a line one day late (M1) takes no new draw either', async () => {
    const lineId = await openLine(h);
    await makeDelinquent(store, lineId, 1, 'M1');
    await expect(h.core.requestDraw(lineId, DRAW)).rejects.toMatchObject({ code: 'LG_DRAW_DECLINED' });
  });
});

describe('draws on a delinquent line through the API and the bundled draw strategy', () => {
  it('the strategy itself declines an M2 line (R_DAYS_PAST_DUE), and the caller cannot send line facts', async () => {
    const t = await startTestApp();
    try {
      const { app, server } = t;
      const applied = await app.core.submitApplication({ applicant: ADULT, attributes: STRONG_APPLICANT });
      const lineId = applied.line?.id;
      if (!lineId) throw new Error(`not approved: ${applied.outcome}`);
      await makeDelinquent(app.store, lineId, 45, 'M2');
      const forged = await server.inject({
        method: 'POST',
        url: `/v1/lines/${lineId}/draws`,
        headers: adminHeaders('forged-1'),
        payload: { ...DRAW, daysPastDue: 0, bucket: 'M0' },
      });
      expect(forged.statusCode).toBe(400);
      const declined = await server.inject({
        method: 'POST',
        url: `/v1/lines/${lineId}/draws`,
        headers: adminHeaders('draw-1'),
        payload: DRAW,
      });
      expect(declined.statusCode).toBe(422);
      const body = declined.json() as {
        error: { code: string; details: { decisionId: string; reasons: string[] } };
      };
      expect(body.error.code).toBe('LG_DRAW_DECLINED');
      expect(body.error.details.reasons).toContain('R_DAYS_PAST_DUE');
      const decision = await app.store.db
        .selectFrom('decisions')
        .select(['id', 'context', 'trace', 'reasons', 'outcome'])
        .where('id', '=', body.error.details.decisionId)
        .executeTakeFirstOrThrow();
      // The bundled strategy read the core's facts and declined on its own rule, not only the core's hard rule.
      expect(decisionContextOf(app.crypto, decision)).toMatchObject({ daysPastDue: 45, bucket: 'M2' });
      expect(decision.outcome).toBe('DECLINE');
      expect(JSON.parse(decision.reasons)).toContain('R_DAYS_PAST_DUE');
    } finally {
      await t.close();
    }
  });
});

const COOLING_OFF_MS = 24 * 60 * 60_000;

/** An open alert another process's monitor raised on the borrower (its row, as that monitor stores it). */
const alertOn = (userId: string, lineId: string, at: number) =>
  alertToRow({
    alertId: 'alert-elsewhere',
    typologyId: 'scam-safe-account',
    typologyVersion: 1,
    severity: 'high',
    userId,
    lineId,
    eventId: 'event-elsewhere',
    occurredAt: at,
    createdAt: at,
    reasons: ['R_MANUAL_REVIEW'],
    evidence: {},
    actions: [],
  });

/**
 * Issue 13, "per-process memory read as shared truth": the open-alert count a draw decides on is read in the draw's
 * unit, under the line's lock, from the shared table — never from what the monitor of this process happens to know,
 * and never from a monitor signal that says otherwise.
 */
for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`open alerts a draw reads (${factory.name})`, () => {
    let store: Store;
    let h: Harness;
    beforeEach(async () => {
      store = await factory.open('draw_open_alerts');
      h = makeCore(store);
    });
    afterEach(async () => store.close());

    it('counts an alert this process never saw, and only while it is open', async () => {
      // A monitor that knows of no alert, and says so in the signal itself.
      const core = createCoreServices({ ...h.deps, drawSignals: async () => ({ alertsOpen: 0 }) });
      const lineId = await openLine({ ...h, core });
      const { borrower_id: borrowerId } = await store.db
        .selectFrom('credit_lines')
        .select('borrower_id')
        .where('id', '=', lineId)
        .executeTakeFirstOrThrow();
      // Another process's alert, committed before this draw takes the line's lock.
      await store.db
        .insertInto('monitor_alerts')
        .values(alertOn(borrowerId, lineId, h.clock.now()))
        .execute();
      await core.requestDraw(lineId, DRAW);
      const seen = () => h.engine.calls.filter((c) => c.strategyId === 'draw').at(-1)?.context;
      expect(seen()).toMatchObject({ alertsOpen: 1 });
      await store.db
        .updateTable('monitor_alerts')
        .set({ status: 'CLOSED' })
        .where('alert_id', '=', 'alert-elsewhere')
        .execute();
      h.clock.advance(30 * 60_000);
      await core.requestDraw(lineId, DRAW);
      expect(seen()).toMatchObject({ alertsOpen: 0 });
    });

    it("stops a cooling-off draw's release on an alert committed while the sweep waited for the draw", async () => {
      const lineId = await openLine(h);
      const { borrower_id: borrowerId } = await store.db
        .selectFrom('credit_lines')
        .select('borrower_id')
        .where('id', '=', lineId)
        .executeTakeFirstOrThrow();
      h.engine.script.draw = () => ({ outcome: 'COOLDOWN' });
      const held = await h.core.requestDraw(lineId, DRAW);
      expect(held.status).toBe('COOLDOWN');
      h.clock.advance(COOLING_OFF_MS + 1);
      // The monitor of another process commits an alert on the borrower (a call in progress: the safe-account scam's
      // sign) after the sweep picked the draw and before its release takes the draw's and the line's locks.
      const transaction = store.transaction.bind(store);
      let raised = false;
      const sweepStore: Store = {
        ...store,
        transaction: async (work, guard) => {
          if (!raised) {
            raised = true;
            await store.db
              .insertInto('monitor_alerts')
              .values(alertOn(borrowerId, lineId, h.clock.now()))
              .execute();
          }
          return transaction(work, guard);
        },
      };
      const swept = await releaseDueCooldowns(
        { ...h.deps, store: sweepStore },
        { coolingOffMs: COOLING_OFF_MS },
      );
      expect(swept).toMatchObject({ released: [], stopped: [held.drawId] });
      const draw = await store.db
        .selectFrom('draws')
        .select(['status', 'loan_id'])
        .where('id', '=', held.drawId)
        .executeTakeFirstOrThrow();
      expect(draw).toMatchObject({ status: 'HOLD', loan_id: null });
    });
  });
}

/**
 * The velocity a draw reads (drawsLast24h, minutesSinceLastDraw) is about money leaving the line: a held draw counts
 * from its release, not from when it was asked for. Before, a draw released by the 24-hour cooling-off job kept its
 * request time, so a draw one minute after that disbursement saw the last draw 1,441 minutes ago and none in 24 hours,
 * and passed the strategy's 10-minute cooling-off between draws.
 */
for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`velocity after a held draw's release (${factory.name})`, () => {
    const COOLING_OFF_MS = 24 * 3_600_000;
    let store: Store;
    let h: Harness;
    beforeEach(async () => {
      store = await factory.open('draw_velocity_release');
      h = makeCore(store);
    });
    afterEach(async () => store.close());

    it('counts a released draw from the moment its money left, by the job or by a person', async () => {
      const lineId = await openLine(h);
      const seen = () => h.engine.calls.filter((c) => c.strategyId === 'draw').at(-1)?.context;
      h.engine.script.draw = () => ({ outcome: 'COOLDOWN', reasons: ['R_COOLING_OFF'] });
      const cooling = await h.core.requestDraw(lineId, DRAW);
      h.engine.script.draw = () => ({ outcome: 'HOLD', reasons: ['R_MANUAL_REVIEW'] });
      const held = await h.core.requestDraw(lineId, DRAW);
      h.clock.advance(COOLING_OFF_MS);
      const swept = await releaseDueCooldowns(h.deps, { coolingOffMs: COOLING_OFF_MS });
      expect(swept.released).toEqual([cooling.drawId]);
      h.clock.advance(60_000);
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      await h.core.requestDraw(lineId, DRAW);
      expect(seen()).toMatchObject({ drawsLast24h: 1, minutesSinceLastDraw: 1 });
      // A person releases the other one two hours later; a draw 5 minutes after sees it too.
      h.clock.advance(2 * 3_600_000);
      await store.transaction((tx) => releaseHeldDrawInTx(h.deps, tx, held.drawId, { actor: 'analyst' }));
      h.clock.advance(5 * 60_000);
      await h.core.requestDraw(lineId, DRAW);
      expect(seen()).toMatchObject({ drawsLast24h: 3, minutesSinceLastDraw: 5 });
    });
  });
}
