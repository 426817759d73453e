import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isLgError } from '../domain/index.js';
import {
  assertOutcome,
  assertTransition,
  canTransition,
  CASE_STATES,
  OUTCOMES_BY_TYPE,
  slaPolicy,
} from './model.js';
import { computeStats } from './stats.js';
import { newCaseRow } from './rows.js';

describe('case transition table', () => {
  it('never leaves RESOLVED and answers an illegal move with LG_CASE_TRANSITION_ILLEGAL', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CASE_STATES), fc.constantFrom(...CASE_STATES), (from, to) => {
        if (from === 'RESOLVED') expect(canTransition(from, to)).toBe(false);
        try {
          assertTransition('c', from, to);
          expect(canTransition(from, to)).toBe(true);
        } catch (error) {
          expect(isLgError(error) && error.code === 'LG_CASE_TRANSITION_ILLEGAL').toBe(true);
          expect(canTransition(from, to)).toBe(false);
        }
      }),
    );
    expect(() => assertTransition('c', 'BOGUS', 'OPEN')).toThrow(/cannot go/);
  });

  it('accepts only the outcomes of the case type', () => {
    expect(() => assertOutcome('c', 'ALERT', 'APPROVE')).toThrow();
    for (const outcome of OUTCOMES_BY_TYPE.ALERT)
      expect(() => assertOutcome('c', 'ALERT', outcome)).not.toThrow();
  });

  it('gives a critical alert the 1-hour SLA and a complaint 15 days, overridable per type', () => {
    const sla = slaPolicy({ HELD_DRAW: 60_000 });
    const alert = newCaseRow('a', { type: 'ALERT', subjectId: 's', severity: 'critical', since: 0 }, sla, 5);
    expect(alert.sla_due_at).toBe(3_600_000);
    expect(alert.priority).toBe(1);
    expect(newCaseRow('b', { type: 'COMPLAINT', subjectId: 's', since: 0 }, sla, 0).sla_due_at).toBe(
      15 * 86_400_000,
    );
    expect(newCaseRow('c', { type: 'HELD_DRAW', subjectId: 's', since: 10 }, sla, 0).sla_due_at).toBe(60_010);
  });
});

describe('case stats', () => {
  const alert = (
    id: string,
    typology: string,
    rules: string[],
    outcome: string | null,
    resolvedAfterMs?: number,
  ) => ({
    ...newCaseRow(
      id,
      { type: 'ALERT', subjectId: id, typologyId: typology, ruleIds: rules, severity: 'high', since: 0 },
      slaPolicy(),
      0,
    ),
    ...(outcome === null ? {} : { state: 'RESOLVED', outcome, resolved_at: resolvedAfterMs ?? 1_000 }),
  });

  it('computes false-positive rates from dispositions per typology and per rule', () => {
    const stats = computeStats(
      [
        alert('1', 'SCAM', ['CALL', 'PAYEE'], 'CONFIRMED_FRAUD'),
        alert('2', 'SCAM', ['CALL'], 'FALSE_POSITIVE'),
        alert('3', 'SCAM', ['CALL'], 'FALSE_POSITIVE'),
        alert('4', 'SCAM', ['PAYEE'], 'INCONCLUSIVE'),
        alert('5', 'SCAM', ['PAYEE'], null),
        alert('6', 'ATO', ['DEVICE'], 'CUSTOMER_ERROR', 2 * 86_400_000),
      ],
      { truncated: false, sla: slaPolicy() },
    );
    expect(stats.byTypology.SCAM).toMatchObject({ alerts: 5, undisposed: 1, falsePositiveRate: 2 / 3 });
    expect(stats.byTypology.SCAM?.dispositions).toMatchObject({
      CONFIRMED_FRAUD: 1,
      FALSE_POSITIVE: 2,
      INCONCLUSIVE: 1,
    });
    expect(stats.byRule['SCAM/CALL']?.falsePositiveRate).toBe(2 / 3);
    // INCONCLUSIVE and undisposed alerts say nothing about precision: PAYEE has one conclusive (fraud) label.
    expect(stats.byRule['SCAM/PAYEE']?.falsePositiveRate).toBe(0);
    expect(stats.byTypology.ATO?.falsePositiveRate).toBe(0);
    expect(stats.byType.ALERT).toMatchObject({ cases: 6, resolved: 5, resolvedWithinSla: 4 });
  });

  it("reports the SLA the policy sets, not the due time less the row's creation (the SLA runs from before it)", () => {
    const sla = slaPolicy();
    // Each row written a few milliseconds (or a sweep) after the work it is about was left for a person.
    const review = newCaseRow('r', { type: 'REVIEW_APPLICATION', subjectId: 'r', since: 0 }, sla, 3);
    const critical = (id: string) =>
      newCaseRow(id, { type: 'ALERT', subjectId: id, severity: 'critical', since: 0 }, sla, 7);
    const high = (id: string) =>
      newCaseRow(id, { type: 'ALERT', subjectId: id, severity: 'high', since: 0 }, sla, 60_000);
    const stats = computeStats([review, critical('c1'), critical('c2'), high('h1')], {
      truncated: false,
      sla,
    });
    expect(stats.byType.REVIEW_APPLICATION?.slaMs).toBe(86_400_000);
    // A critical alert's is 1 hour, another's 24: the median of the three.
    expect(stats.byType.ALERT?.slaMs).toBe(3_600_000);
    expect(
      computeStats([high('h2')], { truncated: false, sla: slaPolicy({ ALERT: 2 * 86_400_000 }) }).byType.ALERT
        ?.slaMs,
    ).toBe(2 * 86_400_000);
  });

  it('has no rate before any conclusive disposition', () => {
    expect(
      computeStats([alert('1', 'X', [], null)], { truncated: false, sla: slaPolicy() }).byTypology.X
        ?.falsePositiveRate,
    ).toBeNull();
  });
});
