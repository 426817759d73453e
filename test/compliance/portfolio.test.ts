import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person } from '../cases/helpers.js';
import { ManualClock, MS_PER_DAY, isoDate } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { DEFAULT_BUCKETS } from '../../src/domain/delinquency.js';
import { baselineOf, psiAgainst, rollRates, type PortfolioSnapshot } from '../../src/compliance/portfolio.js';
import {
  DEFAULT_THRESHOLDS,
  evaluateEarlyWarnings,
  parseThresholds,
} from '../../src/compliance/early-warning.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

const T0 = Date.UTC(2026, 9, 1, 9, 0, 0);

function snapshot(over: Partial<PortfolioSnapshot> = {}): PortfolioSnapshot {
  return {
    asOf: '2026-10-01',
    windowDays: 30,
    lines: {},
    openLoans: 0,
    outstandingMinor: 0,
    byBucket: {},
    byProduct: {},
    byChannel: {},
    m1PlusRate: 0,
    m2PlusRate: 0,
    rollRates: { 'M0->M1': 0, 'M1->M2': 0 },
    vintages: [],
    decisions: { applications: 0, approvalRate: 0, declineRate: 0, reviewRate: 0 },
    restrictions: { freezes: 0, suspensions: 0, closures: 0, freezeRate: 0, suspensionRate: 0 },
    alertsByTypology: {},
    inquiries: {},
    score: { count: 0, psi: null, baselineAsOf: null },
    complaints: null,
    appeals: null,
    ...over,
  };
}

describe('portfolio figures and early-warning rules (pure)', () => {
  it('roll rate X->Y = of the loans open in X at the window start, the share open in Y at its end', () => {
    const loan = (loanId: string, bucket: string, outstandingMinor = 100) => ({
      loanId,
      borrowerId: 'b',
      method: 'EQUAL_INSTALLMENT',
      bucket,
      startDate: '2026-09-01',
      principalMinor: 100,
      outstandingMinor,
    });
    const atStart = [
      loan('a', 'M0'),
      loan('b', 'M0'),
      loan('c', 'M0'),
      loan('d', 'M0'),
      loan('e', 'M1'),
      loan('f', 'M1'),
      // Settled before the window opened: in no cohort.
      loan('g', 'M0', 0),
    ];
    const atEnd = [
      loan('a', 'M0'),
      // Rolled, and rolled on: b to M1, e to M2.
      loan('b', 'M1'),
      loan('e', 'M2'),
      // Settled inside the window: c (from M0) and f (from M1) stay in their denominators.
      loan('c', 'M0', 0),
      loan('f', 'M1', 0),
      // d cured nothing, it is still M0. Booked inside the window and already M1: h counts nowhere.
      loan('d', 'M0'),
      loan('h', 'M1'),
    ];
    const rates = rollRates(DEFAULT_BUCKETS, atStart, atEnd);
    expect(rates['M0->M1']).toBe(1 / 4);
    expect(rates['M1->M2']).toBe(1 / 2);
    // Nothing was in M2 when the window opened: 0, not a division by zero.
    expect(rates['M2->M3']).toBe(0);
    // A book that all started inside the window has no cohort: every rate is 0.
    expect(Object.values(rollRates(DEFAULT_BUCKETS, [], atEnd)).every((r) => r === 0)).toBe(true);
  });

  it('PSI is zero against its own baseline and large for a shifted population', () => {
    const base = Array.from({ length: 500 }, (_, i) => 400 + (i % 200));
    const baseline = baselineOf(base, '2026-10-01');
    expect(psiAgainst(baseline, base)).toBeCloseTo(0, 10);
    const shifted = base.map((s) => s + 120);
    expect(psiAgainst(baseline, shifted)).toBeGreaterThan(0.25);
  });

  it('each rule fires above its threshold and stays quiet below it', () => {
    const t = DEFAULT_THRESHOLDS;
    const quiet = snapshot({ m1PlusRate: 0.04, rollRates: { 'M0->M1': 0.1, 'M1->M2': 0.2 } });
    expect(evaluateEarlyWarnings(quiet, quiet, t)).toEqual([]);
    const bad = snapshot({
      m1PlusRate: 0.08,
      rollRates: { 'M0->M1': 0.1, 'M1->M2': 0.45 },
      score: { count: 100, psi: 0.31, baselineAsOf: '2026-09-01' },
      restrictions: { freezes: 12, suspensions: 0, closures: 0, freezeRate: 0.1, suspensionRate: 0 },
      decisions: { applications: 50, approvalRate: 0.3, declineRate: 0.6, reviewRate: 0.1 },
    });
    const previous = snapshot({
      m1PlusRate: 0.04,
      restrictions: { freezes: 3, suspensions: 0, closures: 0, freezeRate: 0.02, suspensionRate: 0 },
      decisions: { applications: 40, approvalRate: 0.6, declineRate: 0.3, reviewRate: 0.1 },
    });
    const fired = evaluateEarlyWarnings(bad, previous, t).map((b) => b.ruleId);
    expect(fired.sort()).toEqual(
      [
        'DECLINE_SPIKE',
        'FREEZE_SPIKE',
        'M1_PLUS_RATE',
        'M1_PLUS_RISING',
        'ROLL_M1_TO_M2',
        'SCORE_PSI',
      ].sort(),
    );
    // No spike from an empty window: the previous snapshot had too few applications to compare against.
    const thin = snapshot({ decisions: { applications: 1, approvalRate: 1, declineRate: 0, reviewRate: 0 } });
    expect(evaluateEarlyWarnings(bad, thin, t).map((b) => b.ruleId)).not.toContain('DECLINE_SPIKE');
  });

  it('thresholds are configurable, and bad configuration is refused', () => {
    expect(parseThresholds('{"psi":0.1}').psi).toBe(0.1);
    expect(() => parseThresholds('{"psy":0.1}')).toThrow(/unknown threshold/);
    expect(() => parseThresholds('{"psi":-1}')).toThrow(/>= 0/);
    expect(() => parseThresholds('[1]')).toThrow(/JSON object/);
  });
});

describe('portfolio through the app: snapshots, early warnings, metrics, monthly report', () => {
  const clock = new ManualClock(T0);
  let t: TestApp;
  let n = 0;
  const lines: { lineId: string; borrowerId: string }[] = [];
  const post = (url: string, payload: unknown) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`p-${++n}`), payload: payload as object });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });

  beforeAll(async () => {
    t = await startTestApp({}, { clock, random: seededRandom(21) });
    for (let i = 0; i < 4; i++) {
      const app = await post('/v1/applications', {
        applicant: { name: '赵敏', nationalId: residentId('19820202', 200 + i), phone: '13900004444' },
        attributes: STRONG_APPLICANT,
      });
      expect(app.json().outcome).toBe('APPROVE');
      const draw = await post(`/v1/lines/${app.json().line.id}/draws`, {
        amountMinor: 200_000,
        currency: 'CNY',
        termMonths: 6,
        method: i % 2 === 0 ? 'EQUAL_INSTALLMENT' : 'EQUAL_PRINCIPAL',
      });
      expect(draw.statusCode).toBe(201);
      lines.push({ lineId: app.json().line.id, borrowerId: app.json().borrowerId });
    }
    // Two complaints and an appeal in October; one complaint is answered within its deadline.
    const first = lines[0]!;
    const service = await person(t, 'lender-backend', 'service');
    const token = (
      await t.server.inject({
        method: 'POST',
        url: `/v1/borrowers/${first.borrowerId}/tokens`,
        headers: { authorization: `Bearer ${service.key}`, 'idempotency-key': `tk-${++n}` },
        payload: { ttlSeconds: 900 },
      })
    ).json().token;
    const asBorrower = (url: string, payload: unknown) =>
      t.server.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': `b-${++n}` },
        payload: payload as object,
      });
    const fees = await asBorrower('/v1/me/complaints', { category: 'FEES_PRICING', text: '费用不清楚' });
    expect(fees.statusCode, fees.body).toBe(201);
    expect(
      (await asBorrower('/v1/me/complaints', { category: 'CLOSURE_OR_LIMIT', text: '额度' })).statusCode,
    ).toBe(201);
    const frozen = await t.app.core.applyLineAction(first.lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_UTILISATION_HIGH'],
      automated: false,
      actor: 'test',
    });
    const appeal = await asBorrower('/v1/me/appeals', { actionId: frozen.actionId, text: '请重新审核' });
    expect(appeal.statusCode, appeal.body).toBe(201);
    clock.advance(2 * MS_PER_DAY);
    const complaintCase = (await get('/v1/cases?type=COMPLAINT'))
      .json()
      .items.find((c: { subjectId: string }) => c.subjectId === fees.json().id);
    const resolved = await post(`/v1/cases/${complaintCase.id}/resolve`, {
      outcome: 'RESOLVED',
      textZh: '已说明费用。',
      textEn: 'The fees were explained.',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    // Nobody pays: 45 days on, the first instalments are past due.
    clock.advance(45 * MS_PER_DAY);
  });
  afterAll(async () => t?.close());

  it('`jobs daily` ages the book, then the snapshot shows the delinquency and raises an alert with the figures', async () => {
    const asOf = isoDate(clock.now());
    await t.app.core.runDailyJob(asOf);
    const { snapshot: s, warnings } = await t.app.portfolio.snapshot(asOf);
    expect(s.openLoans).toBe(4);
    expect(s.outstandingMinor).toBe(800_000);
    expect(s.m1PlusRate).toBe(1);
    expect(Object.keys(s.byProduct).sort()).toEqual(['EQUAL_INSTALLMENT', 'EQUAL_PRINCIPAL']);
    expect(s.byChannel).toEqual({ UNKNOWN: { loans: 4, outstandingMinor: 800_000 } });
    expect(s.vintages).toEqual([
      expect.objectContaining({ month: '2026-10', loans: 4, principalMinor: 800_000, m1PlusRate: 1 }),
    ]);
    expect(s.rollRates['M0->M1']).toBe(1);
    // The 30-day window ends 47 days after the filings: none came in or was settled in it; two are still open.
    expect(s.complaints).toMatchObject({ received: 0, settled: {}, openAtEnd: 1, overdueAtEnd: 1 });
    expect(s.appeals).toMatchObject({ received: 0, openAtEnd: 1, overdueAtEnd: 1 });
    expect(warnings.map((w) => w.ruleId)).toContain('M1_PLUS_RATE');
    const m1 = warnings.find((w) => w.ruleId === 'M1_PLUS_RATE');
    expect(m1?.alertId).toBeTruthy();
    const alert = await t.app.store.db
      .selectFrom('monitor_alerts')
      .selectAll()
      .where('alert_id', '=', m1?.alertId ?? '')
      .executeTakeFirstOrThrow();
    expect(alert.typology_id).toBe('EARLY_WARNING_M1_PLUS_RATE');
    expect(JSON.parse(alert.evidence)).toMatchObject({ value: 1, threshold: 0.05, asOf });
    // A rerun of the same day replaces the snapshot and raises no second alert.
    const again = await t.app.portfolio.snapshot(asOf);
    expect(again.warnings).toEqual([]);
    const warningsRes = await get('/v1/portfolio/warnings');
    expect(
      warningsRes.json().warnings.filter((w: { ruleId: string }) => w.ruleId === 'M1_PLUS_RATE'),
    ).toHaveLength(1);
  });

  it('serves the snapshots over HTTP and exports the gauges on /metrics', async () => {
    const asOf = isoDate(clock.now());
    expect((await get('/v1/portfolio/snapshots/latest')).json().asOf).toBe(asOf);
    expect((await get(`/v1/portfolio/snapshots/${asOf}`)).json().openLoans).toBe(4);
    expect((await get('/v1/portfolio/snapshots/2001-01-01')).statusCode).toBe(404);
    expect((await get('/v1/portfolio/snapshots/yesterday')).statusCode).toBe(400);
    // A date that is no calendar day is bad input, not an absent snapshot.
    expect((await get('/v1/portfolio/snapshots/2026-02-30')).statusCode).toBe(400);
    expect((await get('/v1/portfolio/snapshots?from=2026-13-01')).statusCode).toBe(400);
    expect((await get(`/v1/portfolio/snapshots?from=${asOf}&to=${asOf}`)).json().snapshots).toHaveLength(1);
    const metrics = (await t.server.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/lineguard_portfolio_rate\{rate="m1_plus"\} 1/);
    expect(metrics).toMatch(/lineguard_portfolio_outstanding_minor\{bucket="M[12]"\} \d+/);
    expect(metrics).toMatch(/lineguard_portfolio_roll_rate\{from="M0",to="M1"\} 1/);
  });

  it('produces the monthly report as JSON and CSV', async () => {
    const json = (await get('/v1/portfolio/reports/monthly?month=2026-10')).json();
    // The appealed freeze left one line DRAW_FROZEN.
    expect(json.linesByStatus).toEqual([
      { status: 'ACTIVE', lines: 3 },
      { status: 'DRAW_FROZEN', lines: 1 },
    ]);
    expect(json.loansByBucket.reduce((s: number, b: { loans: number }) => s + b.loans, 0)).toBe(4);
    expect(json.complaints).toEqual({
      received: 2,
      receivedByKind: { CLOSURE_OR_LIMIT: 1, FEES_PRICING: 1 },
      settled: { RESOLVED: 1 },
      settledLate: 0,
      openAtEnd: 1,
      // Filed on 1 October with a 15-day deadline, still unanswered on 1 November.
      overdueAtEnd: 1,
    });
    expect(json.appeals).toMatchObject({
      received: 1,
      receivedByKind: { line_action: 1 },
      settled: {},
      openAtEnd: 1,
    });
    const csv = await get('/v1/portfolio/reports/monthly?month=2026-10&format=csv');
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toBe('section,key,detail,value');
    expect(csv.body).toContain('lines_by_status,ACTIVE,,3');
    expect(csv.body).toContain('complaints,received,FEES_PRICING,1');
    expect(csv.body).toContain('complaints,settled,RESOLVED,1');
    expect(csv.body).toContain('appeals,open_at_end,,1');
    expect((await get('/v1/portfolio/reports/monthly?month=2026-13')).statusCode).toBe(400);
  });
});
