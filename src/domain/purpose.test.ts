import { describe, expect, it } from 'vitest';
import { judgePurpose } from './purpose.js';

const legacy = { forbidLoanRepayment: false, requireCatalogue: false };
const product = { forbidLoanRepayment: true, requireCatalogue: true };

describe('资金用途', () => {
  it("refuses the issue's example and every forbidden use, in words a borrower reads", () => {
    const v = judgePurpose('STOCK_INVESTMENT_买房首付', legacy);
    expect(v.allowed).toBe(false);
    expect(v.reason?.zh).toContain('消费贷款不得用于');
    for (const text of [
      'HOUSE_DOWN_PAYMENT',
      'securities',
      '炒股',
      '期货',
      '理财产品',
      'casino',
      'crypto',
      '买房',
    ]) {
      expect(judgePurpose(text, legacy).allowed, text).toBe(false);
    }
  });

  it('allows catalogue consumption; loan repayment only where the product allows it', () => {
    expect(judgePurpose('TRAVEL', product)).toEqual({ code: 'TRAVEL', allowed: true });
    expect(judgePurpose('LOAN_REPAYMENT', legacy).allowed).toBe(true);
    expect(judgePurpose('LOAN_REPAYMENT', product).allowed).toBe(false);
    expect(judgePurpose('还信用卡还款', product).allowed).toBe(false);
  });

  it('a product line needs a catalogue code; a legacy line keeps harmless free text', () => {
    expect(() => judgePurpose('something', product)).toThrow(
      expect.objectContaining({ code: 'LG_PURPOSE_UNKNOWN' }),
    );
    expect(judgePurpose('new sofa', legacy)).toEqual({ code: 'new sofa', allowed: true });
  });
});
