import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrategy, type StrategyDocument } from '../../src/engine/index.js';
import { scorerFromModel } from '../../src/scoring/index.js';
import { adminHeaders, startTestApp, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * Omission never buys an approval with the bundled application strategy and scorecard: the scorer puts a missing
 * value in a bin the bundled model scores 0 points, better than the real answers of most characteristics, so an
 * application missing any characteristic the scorecard scores goes to thin-file review (a person decides) rather
 * than being scored as if it were neutral.
 */
const DOCUMENT = JSON.parse(readFileSync('strategies/application.json', 'utf8')) as StrategyDocument & {
  params: Record<string, { default: number }>;
};
const SCORER = scorerFromModel(readFileSync('models/application-scorecard.json', 'utf8'));
const SCORED = SCORER.model.features.map((f) => f.name);

const PARAMS = Object.fromEntries(Object.entries(DOCUMENT.params).map(([k, v]) => [k, v.default]));
const compiled = compileStrategy({ ...DOCUMENT, version: 1 });
const run = (attributes: Record<string, unknown>) =>
  compiled.run(
    { age: 40, ...attributes },
    { params: PARAMS, models: (id) => (id === SCORER.id ? SCORER : undefined) },
  );

/** Bureau facts and the three characteristics the strategy always sent to review when missing. */
const BASE = {
  monthlyIncomeMinor: 1_000_000,
  existingDebtMinor: 0,
  externalDelinquent: false,
  inquiries30d: 0,
  CheckingAccountStatus: 'none',
  CreditHistory: 'PaidDuly',
  Duration: 24,
};
/** The applicant's own, truthful answers to the other scored questions (all on the risky side). */
const HONEST = {
  ...BASE,
  Amount: 12000,
  SavingsAccountBonds: 'lt.100',
  EmploymentDuration: 'lt.1',
  Purpose: 'Education',
  Property: 'Unknown',
  OtherInstallmentPlans: 'Bank',
  Housing: 'ForFree',
  InstallmentRatePercentage: 4,
};

describe('the bundled application strategy and a scorecard characteristic left out', () => {
  it('the bundled model scores eleven characteristics, each a declared input of the strategy', () => {
    expect(SCORED).toHaveLength(11);
    const inputs = new Set(DOCUMENT.inputs.map((i) => i.name));
    expect(SCORED.filter((name) => !inputs.has(name))).toEqual([]);
  });

  it('a complete applicant is scored (approved here), not referred', () => {
    expect(run(STRONG_APPLICANT)).toMatchObject({ outcome: 'APPROVE' });
  });

  it.each(SCORED)('refers to thin-file review an application without %s', (name) => {
    const { [name]: _left, ...without } = STRONG_APPLICANT as Record<string, unknown>;
    const decision = run(without);
    expect(decision.outcome).toBe('REVIEW');
    expect(decision.reasons).toEqual(['R_THIN_FILE']);
  });

  it('a characteristic sent as null is missing too', () => {
    expect(run({ ...STRONG_APPLICANT, Property: null })).toMatchObject({
      outcome: 'REVIEW',
      reasons: ['R_THIN_FILE'],
    });
  });
});

describe('leaving adverse scorecard answers out (the whole application)', () => {
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: object) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`scm-${++n}`), payload });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('does not turn a decline on the honest answers into an approval', async () => {
    const honest = await post('/v1/applications', {
      applicant: { name: '李雷', nationalId: residentId('19900101', 701), phone: '13900001111' },
      attributes: HONEST,
    });
    expect(honest.statusCode, honest.body).toBe(201);
    expect(honest.json().outcome).toBe('DECLINE');

    const omitted = await post('/v1/applications', {
      applicant: { name: '韩梅梅', nationalId: residentId('19900101', 702), phone: '13900002222' },
      attributes: BASE,
    });
    expect(omitted.statusCode, omitted.body).toBe(201);
    expect(omitted.json()).toMatchObject({ outcome: 'REVIEW', reasons: ['R_THIN_FILE'] });
    expect(omitted.json().line ?? null).toBeNull();
  });
});
