import { describe, expect, it } from 'vitest';
import {
  EMPTY_DRAFT,
  parsePercentToRate,
  parseYuanToFen,
  resolveBody,
  type ReasonRules,
} from '../../web/src/components/outcome-input.js';
import { isKnownReason, personMayGive, saysWhy } from '../../src/domain/reason-codes.js';

/**
 * The dashboard's case outcome inputs (web/src/components/outcome-input.ts): a limit typed in yuan becomes integer fen
 * exactly (on the digits, never through a float), a rate typed in percent the decimal the API takes, and an outcome's
 * body is refused before sending when the API would refuse it for a missing or blank input.
 */
describe('parseYuanToFen', () => {
  it.each([
    ['0.1', 10],
    ['0.01', 1],
    ['12.34', 1234],
    ['12.3', 1230],
    ['12', 1200],
    ['0', 0],
    ['007.50', 750],
    ['  88.88  ', 8888],
    // Grouping commas are accepted, in threes only.
    ['1,000.00', 100_000],
    ['12,345,678.9', 1_234_567_890],
    // An IME's full-width digits and point, and a yen sign in front.
    ['１２．３４', 1234],
    ['¥50,000', 5_000_000],
    ['￥0.5', 50],
    // A float would miss these: 4.35 * 100 = 434.99999999999994, 1.15 * 100 = 114.99999999999999.
    ['4.35', 435],
    ['1.15', 115],
    ['90071992547409.91', 9_007_199_254_740_991],
  ])('reads %j as %d fen', (text, fen) => {
    expect(parseYuanToFen(text)).toEqual({ ok: true, value: fen });
  });

  it.each([
    ['', 'blank'],
    ['   ', 'blank'],
    ['-5', 'negative'],
    ['-0.01', 'negative'],
    ['−12.00', 'negative'],
    ['12.345', 'decimals'],
    ['0.001', 'decimals'],
    // A comma not between thousands is refused, not guessed at (a decimal comma in some locales).
    ['1,00', 'format'],
    ['1,5', 'format'],
    ['10,00.00', 'format'],
    ['1,0000', 'format'],
    ['1e3', 'format'],
    ['+12', 'format'],
    ['.5', 'format'],
    ['12.', 'format'],
    ['12 345', 'format'],
    ['abc', 'format'],
    ['90071992547409.92', 'tooLarge'],
  ])('refuses %j (%s)', (text, problem) => {
    expect(parseYuanToFen(text)).toEqual({ ok: false, problem });
  });
});

describe('parsePercentToRate', () => {
  it.each([
    ['15', 0.15],
    ['14.6', 0.146],
    ['7.25', 0.0725],
    ['0.5', 0.005],
    ['18.25%', 0.1825],
    ['100', 1],
    ['0', 0],
  ])('reads %j%% as %d', (text, rate) => {
    expect(parsePercentToRate(text)).toEqual({ ok: true, value: rate });
  });

  it('is the decimal typed, not a division of floats', () => {
    expect(14.3 / 100).not.toBe(0.143);
    expect(parsePercentToRate('14.3')).toEqual({ ok: true, value: 0.143 });
    expect(parsePercentToRate('33.3')).toEqual({ ok: true, value: 0.333 });
  });

  it.each([
    ['', 'blank'],
    ['-3', 'negative'],
    ['15.12345', 'decimals'],
    ['1e1', 'format'],
    ['15,5', 'format'],
    ['100.01', 'tooLarge'],
  ])('refuses %j (%s)', (text, problem) => {
    expect(parsePercentToRate(text)).toEqual({ ok: false, problem });
  });
});

describe('resolveBody', () => {
  // What GET /v1/reasons serves, per code, from the catalogue the API checks with.
  const rules: ReasonRules = { isKnown: isKnownReason, personMayGive, saysWhy };

  it('approves with the limit in fen and the rate as a decimal; both are required', () => {
    expect(
      resolveBody('REVIEW_APPLICATION', 'APPROVE', { ...EMPTY_DRAFT, limit: '12,345.67', rate: '14.6' }),
    ).toEqual({ body: { outcome: 'APPROVE', limitMinor: 1_234_567, annualRate: 0.146 } });
    expect(resolveBody('REVIEW_APPLICATION', 'APPROVE', EMPTY_DRAFT)).toEqual({
      issues: [
        { field: 'limit', problem: 'limit.blank' },
        { field: 'rate', problem: 'rate.blank' },
      ],
    });
    expect(resolveBody('REVIEW_APPLICATION', 'APPROVE', { ...EMPTY_DRAFT, limit: '0', rate: '15' })).toEqual({
      issues: [{ field: 'limit', problem: 'limit.zero' }],
    });
  });

  it('declines only with reasons, and with one that says why', () => {
    expect(resolveBody('REVIEW_APPLICATION', 'DECLINE', EMPTY_DRAFT, rules)).toEqual({
      issues: [{ field: 'reasons', problem: 'reasons.blank' }],
    });
    expect(
      resolveBody('REVIEW_APPLICATION', 'DECLINE', { ...EMPTY_DRAFT, reasons: ['R_GOOD_REPAYMENT'] }, rules),
    ).toEqual({ issues: [{ field: 'reasons', problem: 'reasons.needWhy' }] });
    expect(
      resolveBody('REVIEW_APPLICATION', 'DECLINE', { ...EMPTY_DRAFT, reasons: ['R_ENGINE_ERROR'] }, rules),
    ).toEqual({ issues: [{ field: 'reasons', problem: 'reasons.automationOnly' }] });
    expect(
      resolveBody(
        'REVIEW_APPLICATION',
        'DECLINE',
        { ...EMPTY_DRAFT, reasons: ['R_SCORE_LOW'], note: '  checked  ' },
        rules,
      ),
    ).toEqual({ body: { outcome: 'DECLINE', reasons: ['R_SCORE_LOW'], note: 'checked' } });
  });

  it('decides appeals, complaints and disputes only with texts in both languages that say something', () => {
    for (const [type, outcome] of [
      ['APPEAL', 'UPHELD'],
      ['APPEAL', 'REJECTED'],
      ['COMPLAINT', 'RESOLVED'],
      ['CREDIT_REPORT_DISPUTE', 'CORRECTED'],
      ['CREDIT_REPORT_DISPUTE', 'REJECTED'],
    ] as const) {
      // The ideographic space is whitespace too: a text of it alone says nothing.
      expect(resolveBody(type, outcome, { ...EMPTY_DRAFT, textZh: '\u3000 ', textEn: '' })).toEqual({
        issues: [
          { field: 'textZh', problem: 'textZh.blank' },
          { field: 'textEn', problem: 'textEn.blank' },
        ],
      });
      expect(resolveBody(type, outcome, { ...EMPTY_DRAFT, textZh: '已处理。', textEn: 'Done.' })).toEqual({
        body: { outcome, textZh: '已处理。', textEn: 'Done.' },
      });
    }
  });

  it('takes an optional lower limit with reasons on an uphold or a reinstatement, and sends labels alone', () => {
    expect(
      resolveBody(
        'REINSTATEMENT',
        'REINSTATE',
        { ...EMPTY_DRAFT, limit: '5000', reasons: ['R_UTILISATION_HIGH'] },
        rules,
      ),
    ).toEqual({ body: { outcome: 'REINSTATE', limitMinor: 500_000, reasons: ['R_UTILISATION_HIGH'] } });
    // A lower limit is a cut: its reasons must say why, as the API's checkInput holds.
    expect(
      resolveBody(
        'REINSTATEMENT',
        'REINSTATE',
        { ...EMPTY_DRAFT, limit: '5000', reasons: ['R_RISK_RESOLVED'] },
        rules,
      ),
    ).toEqual({ issues: [{ field: 'reasons', problem: 'reasons.needWhy' }] });
    expect(resolveBody('REINSTATEMENT', 'REINSTATE', EMPTY_DRAFT, rules)).toEqual({
      body: { outcome: 'REINSTATE' },
    });
    expect(resolveBody('HELD_DRAW', 'CANCEL', EMPTY_DRAFT, rules)).toEqual({ body: { outcome: 'CANCEL' } });
    expect(resolveBody('ALERT', 'FALSE_POSITIVE', { ...EMPTY_DRAFT, limit: '12', note: 'ok' })).toEqual({
      body: { outcome: 'FALSE_POSITIVE', note: 'ok' },
    });
  });
});
