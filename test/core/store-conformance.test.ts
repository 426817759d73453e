import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { LgError } from '../../src/domain/errors.js';
import { ManualClock, MS_PER_DAY } from '../../src/domain/clock.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import type { Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, makeCore, openLine, residentId, type Harness } from './harness.js';

async function failure(promise: Promise<unknown>): Promise<LgError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LgError) return error;
    throw error;
  }
  throw new Error('expected an LgError');
}

let seq = 100;
function person(birth = '19880512') {
  seq += 1;
  return {
    name: '李雷',
    nationalId: residentId(birth, seq, '310101'),
    phone: `139${String(seq).padStart(8, '0')}`,
  };
}

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`credit-line core on ${factory.name}`, () => {
    let store: Store;
    let h: Harness;

    beforeAll(async () => {
      store = await factory.open('core_conformance');
      h = makeCore(store);
    });
    afterAll(async () => {
      await store?.close();
    });

    describe('applications and borrowers', () => {
      it('approves into an ACTIVE line with a GRANT action, and stores no personal data in clear', async () => {
        h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 3_000_000, annualRate: 0.18 });
        const result = await h.core.submitApplication({
          applicant: ADULT,
          attributes: { monthlyIncomeMinor: 900_000 },
        });
        expect(result.outcome).toBe('APPROVE');
        expect(result.line).toMatchObject({
          status: 'ACTIVE',
          limitMinor: 3_000_000,
          annualRate: 0.18,
          currency: 'CNY',
        });
        expect(result.borrower.nationalId).toBe('110***********' + ADULT.nationalId.slice(-4));
        expect(result.borrower.phone).toBe('138****5678');
        const ctx = h.engine.calls.at(-1)?.context;
        expect(ctx?.age).toBe(34);
        const row = await store.db
          .selectFrom('borrowers')
          .selectAll()
          .where('id', '=', result.borrowerId)
          .executeTakeFirstOrThrow();
        const dump = JSON.stringify(row);
        for (const secret of [ADULT.nationalId, ADULT.phone, ADULT.name, '1990-03-07'])
          expect(dump).not.toContain(secret);
        const line = await h.core.getLine(result.line!.id);
        expect(line.recentActions[0]).toMatchObject({
          type: 'GRANT',
          automated: true,
          traceId: result.decisionId,
          newStatus: 'ACTIVE',
        });
        const outbox = await store.db
          .selectFrom('outbox')
          .selectAll()
          .where('topic', '=', 'core.events')
          .execute();
        const event = outbox
          .map((o) => JSON.parse(o.payload) as Record<string, unknown>)
          .find((e) => e.lineId === result.line!.id);
        expect(event).toMatchObject({
          type: 'application',
          userId: result.borrowerId,
          occurredAt: new Date(h.clock.now()).toISOString(),
        });
      });

      it('finds the same borrower again by keyed hash and caps total limits per borrower', async () => {
        h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 19_000_000, annualRate: 0.3 });
        const again = await h.core.submitApplication({
          applicant: { ...ADULT, nationalId: ADULT.nationalId.toLowerCase() },
          attributes: {},
        });
        const first = await store.db.selectFrom('borrowers').select('id').execute();
        expect(first).toHaveLength(1);
        expect(again.borrowerId).toBe(first[0]?.id);
        expect(again.line?.limitMinor).toBe(17_000_000);
        expect(again.line?.annualRate).toBe(0.24);
        expect(again.adjustments.length).toBe(2);
        const third = await h.core.submitApplication({ applicant: ADULT, attributes: {} });
        expect(third.outcome).toBe('DECLINE');
        expect(third.reasons[0]).toBe('R_BORROWER_CAP');
        expect(third.line).toBeNull();
      });

      it('refuses invalid IDs with the reason and under-age applicants', async () => {
        const bad = await failure(
          h.core.submitApplication({
            applicant: {
              ...ADULT,
              nationalId: ADULT.nationalId.slice(0, 17) + (ADULT.nationalId.endsWith('1') ? '2' : '1'),
            },
            attributes: {},
          }),
        );
        expect(bad.code).toBe('LG_INVALID_NATIONAL_ID');
        expect(bad.details).toEqual({ reason: 'checksum' });
        const young = await failure(
          h.core.submitApplication({ applicant: person('20100101'), attributes: {} }),
        );
        expect(young.code).toBe('LG_BORROWER_UNDERAGE');
      });

      it('declines and refers with reasons, opening no line', async () => {
        h.engine.script.application = () => ({
          outcome: 'DECLINE',
          reasons: ['R_SCORE_LOW', 'R_INQUIRY_VELOCITY'],
        });
        const declined = await h.core.submitApplication({ applicant: person(), attributes: {} });
        expect(declined).toMatchObject({
          outcome: 'DECLINE',
          reasons: ['R_SCORE_LOW', 'R_INQUIRY_VELOCITY'],
          line: null,
        });
        expect(declined.borrowerReasons[0]?.text).toContain('信用评分');
        h.engine.script.application = () => ({ outcome: 'APPROVE' });
        const noLimit = await h.core.submitApplication({ applicant: person(), attributes: {} });
        expect(noLimit.outcome).toBe('REVIEW');
        expect(noLimit.reasons[0]).toBe('R_ENGINE_ERROR');
      });

      it('refuses a client-supplied derived fact', async () => {
        const err = await failure(h.core.submitApplication({ applicant: person(), attributes: { age: 40 } }));
        expect(err.code).toBe('LG_INVALID_ATTRIBUTE');
      });
    });

    describe('draws, loans and repayments', () => {
      let lineId: string;
      beforeAll(async () => {
        lineId = await openLine(h, 1_000_000, person('19850101'));
      });

      it('approves a draw into a loan whose schedule sums to the principal, and debits the line', async () => {
        const draw = await h.core.requestDraw(lineId, {
          amountMinor: 300_000,
          currency: 'CNY',
          termMonths: 6,
          method: 'EQUAL_INSTALLMENT',
          deviceId: 'd1',
        });
        expect(draw.status).toBe('APPROVED');
        const loan = draw.loan!;
        expect(loan.schedule.reduce((s, i) => s + i.principalMinor, 0)).toBe(300_000);
        expect(loan.disclosure.apr.CN_IRR).toBeGreaterThan(17);
        expect(loan.disclosure.apr.CN_IRR).toBeLessThan(19);
        expect(loan.disclosure.apr.EU_CCD).toBeGreaterThan(loan.disclosure.apr.CN_IRR);
        const line = await h.core.getLine(lineId);
        expect(line).toMatchObject({ availableMinor: 700_000, outstandingPrincipalMinor: 300_000 });
        const stored = await h.core.getLoan(loan.id);
        expect(stored.schedule).toEqual(loan.schedule);
        expect(stored).toMatchObject({ status: 'ACTIVE', dpd: 0, bucket: 'M0' });
        const events = await store.db.selectFrom('outbox').select('payload').execute();
        expect(
          events
            .map((e) => JSON.parse(e.payload) as { type: string; loanId?: string })
            .some((e) => e.type === 'disbursement' && e.loanId === loan.id),
        ).toBe(true);
      });

      it('passes line facts to the draw strategy', async () => {
        const ctx = h.engine.calls.filter((c) => c.strategyId === 'draw').at(-1)?.context;
        expect(ctx).toMatchObject({
          lineStatus: 'ACTIVE',
          availableMinor: 1_000_000,
          amountMinor: 300_000,
          drawsLast24h: 0,
        });
      });

      it('declines with 422 reasons, holds with 202 statuses, and warns on cooldown', async () => {
        h.engine.script.draw = () => ({ outcome: 'DECLINE', reasons: ['R_DRAW_VELOCITY'] });
        const declined = await failure(
          h.core.requestDraw(lineId, {
            amountMinor: 1000,
            currency: 'CNY',
            termMonths: 3,
            method: 'EQUAL_PRINCIPAL',
          }),
        );
        expect(declined.code).toBe('LG_DRAW_DECLINED');
        expect((declined.details as { reasons: string[] }).reasons).toEqual(['R_DRAW_VELOCITY']);
        h.engine.script.draw = () => ({ outcome: 'COOLDOWN', reasons: ['R_COOLING_OFF'] });
        const cooled = await h.core.requestDraw(lineId, {
          amountMinor: 1000,
          currency: 'CNY',
          termMonths: 3,
          method: 'EQUAL_PRINCIPAL',
        });
        expect(cooled.status).toBe('COOLDOWN');
        expect(cooled.warning?.zh).toContain('96110');
        expect(cooled.warning?.en).toContain('safe account');
        expect(cooled.loan).toBeUndefined();
        const rows = await store.db
          .selectFrom('draws')
          .select(['status'])
          .where('line_id', '=', lineId)
          .execute();
        expect(rows.map((r) => r.status).sort()).toEqual(['APPROVED', 'COOLDOWN', 'DECLINED']);
        expect((await h.core.getLine(lineId)).availableMinor).toBe(700_000);
        h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      });

      it('refuses an APR above the cap', async () => {
        h.engine.script.draw = () => ({ outcome: 'APPROVE', values: { upfrontFeeMinor: 5_000 } });
        const err = await failure(
          h.core.requestDraw(lineId, {
            amountMinor: 10_000,
            currency: 'CNY',
            termMonths: 1,
            method: 'EQUAL_INSTALLMENT',
          }),
        );
        expect(err.code).toBe('LG_APR_CAP_EXCEEDED');
        h.engine.script.draw = () => ({ outcome: 'APPROVE' });
        expect((await h.core.getLine(lineId)).availableMinor).toBe(700_000);
      });

      it('enforces the hard rules: over-draw, currency, frozen, suspended, closed', async () => {
        expect(
          (
            await failure(
              h.core.requestDraw(lineId, {
                amountMinor: 700_001,
                currency: 'CNY',
                termMonths: 3,
                method: 'EQUAL_PRINCIPAL',
              }),
            )
          ).code,
        ).toBe('LG_INSUFFICIENT_CREDIT');
        expect(
          (
            await failure(
              h.core.requestDraw(lineId, {
                amountMinor: 1,
                currency: 'USD',
                termMonths: 3,
                method: 'EQUAL_PRINCIPAL',
              }),
            )
          ).code,
        ).toBe('LG_CURRENCY_MISMATCH');
        const other = await openLine(h, 100_000, person());
        const draw = (type: string) =>
          failure(
            h.core.requestDraw(other, {
              amountMinor: 100,
              currency: 'CNY',
              termMonths: 3,
              method: 'EQUAL_PRINCIPAL',
            }),
          ).then((e) => [type, e.code]);
        await h.core.applyLineAction(other, {
          type: 'FREEZE_DRAW',
          reasons: ['R_NEW_DEVICE'],
          automated: false,
          actor: 'k1',
        });
        expect(await draw('frozen')).toEqual(['frozen', 'LG_LINE_FROZEN']);
        await h.core.applyLineAction(other, {
          type: 'SUSPEND',
          reasons: ['R_ACCOUNT_TAKEOVER'],
          automated: false,
          actor: 'k1',
        });
        expect(await draw('suspended')).toEqual(['suspended', 'LG_LINE_SUSPENDED']);
        await h.core.applyLineAction(other, {
          type: 'CLOSE',
          reasons: ['R_FRAUD_CONFIRMED'],
          automated: false,
          actor: 'k1',
          revoke: true,
        });
        expect(await draw('revoked')).toEqual(['revoked', 'LG_LINE_CLOSED']);
        const illegal = await failure(
          h.core.applyLineAction(other, {
            type: 'REINSTATE',
            reasons: ['R_RISK_RESOLVED'],
            automated: false,
          }),
        );
        expect(illegal.code).toBe('LG_ILLEGAL_TRANSITION');
        expect(illegal.message).toContain('REVOKED');
        expect(illegal.message).toContain('REINSTATE');
      });

      it('allocates repayments fee, interest, principal and restores available credit', async () => {
        const draw = await h.core.requestDraw(lineId, {
          amountMinor: 120_000,
          currency: 'CNY',
          termMonths: 3,
          method: 'EQUAL_PRINCIPAL',
        });
        const loan = draw.loan!;
        const first = loan.schedule[0]!;
        const before = await h.core.getLine(lineId);
        // Repaid on its due date (its own clock: the suite's stays put), so the instalment is due, not prepaid.
        const later = makeCore(store, { seed: 80, clock: new ManualClock(Date.parse(first.dueDate)) });
        const paid = await later.core.repay(loan.id, { amountMinor: first.totalMinor, currency: 'CNY' });
        expect(paid.allocated).toEqual({
          feeMinor: 0,
          interestMinor: first.interestMinor,
          principalMinor: first.principalMinor,
        });
        expect(paid.loan.schedule[0]?.settled).toBe(true);
        const after = await h.core.getLine(lineId);
        expect(after.availableMinor - before.availableMinor).toBe(first.principalMinor);
        // The rest repaid that day: the principal left and no interest for the periods not begun.
        const owed = paid.loan.payoffToday!.payoffMinor;
        expect(owed).toBe(120_000 - first.principalMinor);
        const over = await failure(later.core.repay(loan.id, { amountMinor: owed + 1, currency: 'CNY' }));
        expect(over.code).toBe('LG_OVERPAYMENT');
        const rest = await later.core.repay(loan.id, { amountMinor: owed, currency: 'CNY' });
        expect(rest.loan.status).toBe('SETTLED');
        expect(rest.loan.outstandingPrincipalMinor).toBe(0);
        expect((await failure(later.core.repay(loan.id, { amountMinor: 1, currency: 'CNY' }))).code).toBe(
          'LG_LOAN_SETTLED',
        );
        expect((await h.core.getLine(lineId)).availableMinor).toBe(before.availableMinor + 120_000);
      });

      /**
       * The daily job as run on `asOf`, on a clock of its own there: the suite's stays put, and the job refuses a day
       * after its clock's.
       */
      const clockOn = (asOf: string) => new ManualClock(Date.parse(`${asOf}T08:00:00Z`));
      const jobOn = (asOf: string, seed: number) => makeCore(store, { seed, clock: clockOn(asOf) }).core;

      /** A loan on a new line whose first instalment fell due 35 days before `asOf`, unpaid. */
      const loanDue35DaysAgo = async (birth: string) => {
        const aged = await openLine(h, 500_000, person(birth));
        const draw = await h.core.requestDraw(aged, {
          amountMinor: 100_000,
          currency: 'CNY',
          termMonths: 3,
          method: 'EQUAL_INSTALLMENT',
        });
        const firstDue = draw.loan!.schedule[0]!.dueDate;
        const asOf = new Date(Date.parse(`${firstDue}T00:00:00Z`) + 35 * MS_PER_DAY)
          .toISOString()
          .slice(0, 10);
        return { aged, draw, asOf };
      };
      const bucketChangesOf = (loanId: string) =>
        store.db.selectFrom('delinquency_changes').selectAll().where('loan_id', '=', loanId).execute();

      it('ages loans daily: dpd per loan and line, bucket changes recorded once', async () => {
        const { aged, draw, asOf } = await loanDue35DaysAgo('19700101');
        const job = jobOn(asOf, 81);
        const result = await job.runDailyJob(asOf);
        const change = result.bucketChanges.find((c) => c.loanId === draw.loan!.id);
        expect(change).toMatchObject({ from: 'M0', to: 'M2', dpd: 35 });
        const line = await h.core.getLine(aged);
        expect(line).toMatchObject({ dpd: 35, bucket: 'M2' });
        const again = await job.runDailyJob(asOf);
        expect(again.bucketChanges.find((c) => c.loanId === draw.loan!.id)).toBeUndefined();
        expect(await bucketChangesOf(draw.loan!.id)).toHaveLength(1);
      });

      it('records a bucket change once when two processes run the daily job for one date at once', async () => {
        const { draw, asOf } = await loanDue35DaysAgo('19710101');
        // Another instance of the core on the same database (another process's job timer, a second CLI run).
        const clock = clockOn(asOf);
        const one = makeCore(store, { seed: 82, clock });
        const other = makeCore(store, { seed: 77, clock });
        const results = await Promise.all([one.core.runDailyJob(asOf), other.core.runDailyJob(asOf)]);
        const reported = results.flatMap((r) => r.bucketChanges.filter((c) => c.loanId === draw.loan!.id));
        expect(reported).toHaveLength(1);
        expect(await bucketChangesOf(draw.loan!.id)).toHaveLength(1);
        const entries = await store.db
          .selectFrom('ledger_entries')
          .select('entry_id')
          .where('kind', '=', 'loan.bucket')
          .where('subject_id', '=', draw.loan!.id)
          .execute();
        expect(entries).toHaveLength(1);
      });

      it('ends a temporary limit once when two processes run the daily job for one date at once', async () => {
        const lineId = await openLine(h, 500_000, person('19720101'));
        const until = h.clock.now() + 3 * MS_PER_DAY;
        await h.core.applyLineAction(lineId, {
          type: 'TEMP_LIMIT',
          limitMinor: 700_000,
          tempUntil: until,
          reasons: ['R_GOOD_REPAYMENT'],
          automated: false,
          actor: 'test',
        });
        const asOf = new Date(until + 2 * MS_PER_DAY).toISOString().slice(0, 10);
        const clock = clockOn(asOf);
        const one = makeCore(store, { seed: 83, clock });
        const other = makeCore(store, { seed: 78, clock });
        const results = await Promise.all([one.core.runDailyJob(asOf), other.core.runDailyJob(asOf)]);
        expect(results.reduce((n, r) => n + r.tempLimitsExpired, 0)).toBe(1);
        const entries = await store.db
          .selectFrom('ledger_entries')
          .select('entry_id')
          .where('kind', '=', 'line.temp_limit_expired')
          .where('subject_id', '=', lineId)
          .execute();
        expect(entries).toHaveLength(1);
        expect((await h.core.getLine(lineId)).limitMinor).toBe(500_000);
      });

      it('a temporary limit ending on a frozen line leaves nothing available until it is unfrozen', async () => {
        const lineId = await openLine(h, 500_000, person('19720303'));
        const until = h.clock.now() + 3 * MS_PER_DAY;
        const manual = { automated: false, actor: 'test' };
        await h.core.applyLineAction(lineId, {
          type: 'TEMP_LIMIT',
          limitMinor: 700_000,
          tempUntil: until,
          reasons: ['R_GOOD_REPAYMENT'],
          ...manual,
        });
        await h.core.requestDraw(lineId, {
          amountMinor: 100_000,
          currency: 'CNY',
          termMonths: 3,
          method: 'EQUAL_PRINCIPAL',
        });
        await h.core.applyLineAction(lineId, {
          type: 'FREEZE_DRAW',
          reasons: ['R_ACCOUNT_TAKEOVER'],
          ...manual,
        });
        expect((await h.core.getLine(lineId)).availableMinor).toBe(0);
        const asOf = new Date(until + 2 * MS_PER_DAY).toISOString().slice(0, 10);
        expect((await jobOn(asOf, 84).runDailyJob(asOf)).tempLimitsExpired).toBe(1);
        expect(await h.core.getLine(lineId)).toMatchObject({ limitMinor: 500_000, availableMinor: 0 });
        await h.core.applyLineAction(lineId, { type: 'UNFREEZE', reasons: ['R_RISK_RESOLVED'], ...manual });
        expect((await h.core.getLine(lineId)).availableMinor).toBe(400_000);
      });
    });

    describe('line actions, the guard, reviews and explanations', () => {
      it('records manual actions with actor, reasons, limits and appealability', async () => {
        const lineId = await openLine(h, 800_000, person());
        const cut = await h.core.applyLineAction(lineId, {
          type: 'LIMIT_DECREASE',
          limitMinor: 300_000,
          reasons: ['R_UTILISATION_HIGH', 'R_LOAN_STACKING'],
          automated: false,
          actor: 'key-42',
          note: 'analyst review',
        });
        expect(cut).toMatchObject({ outcome: 'APPLIED', prevLimitMinor: 800_000, newLimitMinor: 300_000 });
        const line = await h.core.getLine(lineId);
        expect(line.availableMinor).toBe(300_000);
        expect(line.recentActions[0]).toMatchObject({
          type: 'LIMIT_DECREASE',
          actor: 'key-42',
          automated: false,
          reasons: ['R_UTILISATION_HIGH', 'R_LOAN_STACKING'],
          appealable: true,
          note: 'analyst review',
        });
        const up = await failure(
          h.core.applyLineAction(lineId, {
            type: 'RATE_CHANGE',
            annualRate: 0.3,
            reasons: ['R_LIMIT_REVIEW'],
            automated: false,
          }),
        );
        expect(up.code).toBe('LG_APR_CAP_EXCEEDED');
        const unknown = await failure(
          h.core.applyLineAction(lineId, { type: 'FREEZE_DRAW', reasons: ['R_NOPE'], automated: false }),
        );
        expect(unknown.code).toBe('LG_VALIDATION');
      });

      it('turns automated restrictive actions past the guard ceiling into REVIEW and raises an alert', async () => {
        const a = await openLine(h, 100_000, person());
        const b = await openLine(h, 100_000, person());
        // A moment after the grants: a line's actions are stamped after its newest one (instantAfter).
        h.clock.advance(1_000);
        h.engine.guardCeiling = h.engine.admitted + 1;
        const first = await h.core.applyLineAction(a, {
          type: 'FREEZE_DRAW',
          reasons: ['R_SCAM_TRANSFER_PATTERN'],
          automated: true,
          traceId: 'd-1',
          actor: 'monitor',
        });
        expect(first.outcome).toBe('APPLIED');
        const held = await h.core.applyLineAction(b, {
          type: 'FREEZE_DRAW',
          reasons: ['R_SCAM_TRANSFER_PATTERN'],
          automated: true,
          traceId: 'd-2',
          actor: 'monitor',
        });
        expect(held).toMatchObject({
          outcome: 'REVIEW',
          newStatus: 'ACTIVE',
          reasons: ['R_BLAST_RADIUS_GUARD', 'R_SCAM_TRANSFER_PATTERN'],
        });
        expect(h.trips.at(-1)).toMatchObject({ lineId: b, actionType: 'FREEZE_DRAW', traceId: 'd-2' });
        expect((await h.core.getLine(b)).status).toBe('ACTIVE');
        const increase = await h.core.applyLineAction(b, {
          type: 'LIMIT_INCREASE',
          limitMinor: 150_000,
          reasons: ['R_GOOD_REPAYMENT'],
          automated: true,
        });
        expect(increase.outcome).toBe('APPLIED');
        h.engine.guardCeiling = Number.POSITIVE_INFINITY;
        const line = await h.core.getLine(a);
        expect(line.recentActions[0]).toMatchObject({ automated: true, traceId: 'd-1' });
        expect(line.recentActions[0]?.noticeAt).toBe(new Date(h.clock.now()).toISOString());
      });

      it('explains a line to the borrower in Chinese and English', async () => {
        const lineId = await openLine(h, 100_000, person());
        h.clock.advance(1_000);
        await h.core.applyLineAction(lineId, {
          type: 'FREEZE_DRAW',
          reasons: [
            'R_DAYS_PAST_DUE',
            'R_UTILISATION_HIGH',
            'R_LOAN_STACKING',
            'R_INQUIRY_VELOCITY',
            'R_NEW_DEVICE',
          ],
          automated: true,
          traceId: 'x',
        });
        const zh = await h.core.explainLine(lineId, 'zh');
        expect(zh.status).toBe('DRAW_FROZEN');
        expect(zh.statusText).toContain('暂时不能借款');
        expect(zh.reasons).toHaveLength(4);
        expect(zh.reasons[0]?.code).toBe('R_DAYS_PAST_DUE');
        expect(zh.appeal.appealable).toBe(true);
        expect(zh.appeal.deadline).toBe(new Date(h.clock.now() + 30 * MS_PER_DAY).toISOString());
        expect(zh.appeal.how).toContain('申诉');
        const en = await h.core.explainLine(lineId, 'en');
        expect(en.statusText).toMatch(/cannot borrow/);
        expect(en.appeal.how).toMatch(/appeal/i);
        expect(en.whatToDo.length).toBeGreaterThan(0);
      });

      it('reviews active lines through line-review and applies what it asks for', async () => {
        const lineId = await openLine(h, 200_000, person());
        h.engine.script['line-review'] = (ctx) =>
          ctx.limitMinor === 200_000
            ? {
                outcome: 'APPROVE',
                reasons: ['R_GOOD_REPAYMENT'],
                actions: [{ type: 'LIMIT_INCREASE', limitMinor: 250_000, reasons: ['R_GOOD_REPAYMENT'] }],
              }
            : { outcome: 'APPROVE', reasons: [] };
        const result = await h.core.runReviewJob(h.core.lenderToday());
        expect(result.errors).toEqual([]);
        expect(result.reviewed).toBeGreaterThan(3);
        expect(result.actions.find((a) => a.lineId === lineId)).toMatchObject({
          type: 'LIMIT_INCREASE',
          outcome: 'APPLIED',
          newLimitMinor: 250_000,
        });
        const line = await h.core.getLine(lineId);
        expect(line.recentActions[0]?.automated).toBe(true);
        const trace = line.recentActions[0]?.traceId;
        const decision = await store.db
          .selectFrom('decisions')
          .select(['id', 'kind'])
          .where('id', '=', trace ?? '')
          .executeTakeFirst();
        expect(decision?.kind).toBe('review');
        delete h.engine.script['line-review'];
      });

      it('takes a review action once per line and date, however often and wherever the job runs', async () => {
        const lineId = await openLine(h, 300_000, person('19730101'));
        h.engine.script['line-review'] = (ctx) =>
          ctx.limitMinor === 300_000
            ? {
                outcome: 'APPROVE',
                reasons: ['R_UTILISATION_HIGH'],
                actions: [{ type: 'FREEZE_DRAW', reasons: ['R_UTILISATION_HIGH'] }],
              }
            : { outcome: 'APPROVE', reasons: [] };
        // The blast-radius guard holds every automated restriction: the line stays ACTIVE and is reviewed again.
        h.engine.guardCeiling = 0;
        const other = makeCore(store, { seed: 79, clock: h.clock, engine: h.engine });
        const asOf = h.core.lenderToday();
        try {
          await h.core.runReviewJob(asOf);
          await Promise.all([h.core.runReviewJob(asOf), other.core.runReviewJob(asOf)]);
        } finally {
          h.engine.guardCeiling = Number.POSITIVE_INFINITY;
          delete h.engine.script['line-review'];
        }
        const held = await store.db
          .selectFrom('line_actions')
          .select(['id', 'outcome'])
          .where('line_id', '=', lineId)
          .where('actor', '=', `job:review:${asOf}`)
          .execute();
        expect(held).toEqual([expect.objectContaining({ outcome: 'REVIEW' })]);
      });
    });

    describe('ledger', () => {
      it('verifies after all flows, and a flipped byte is detected', async () => {
        const ok = await verifyLedger(store.db);
        expect(ok.ok).toBe(true);
        const kinds = await store.db.selectFrom('ledger_entries').select('kind').distinct().execute();
        expect(kinds.map((k) => k.kind).sort()).toEqual(
          expect.arrayContaining([
            'application',
            'decision',
            'draw',
            'line.action',
            'loan.bucket',
            'loan.disbursed',
            'loan.repayment',
          ]),
        );
        const victim = await store.db
          .selectFrom('ledger_entries')
          .select(['seq', 'payload'])
          .where('kind', '=', 'loan.disbursed')
          .orderBy('seq')
          .executeTakeFirstOrThrow();
        const flipped = victim.payload.replace(
          /"principalMinor":(\d)/,
          (_m, d: string) => `"principalMinor":${(Number(d) + 1) % 10}`,
        );
        expect(flipped).not.toBe(victim.payload);
        await sql`update ledger_entries set payload = ${flipped} where seq = ${victim.seq}`.execute(store.db);
        const broken = await verifyLedger(store.db);
        expect(broken.ok).toBe(false);
        expect(broken.firstBad?.seq).toBe(Number(victim.seq));
        await sql`update ledger_entries set payload = ${victim.payload} where seq = ${victim.seq}`.execute(
          store.db,
        );
        expect((await verifyLedger(store.db)).ok).toBe(true);
      });
    });
  });
}
