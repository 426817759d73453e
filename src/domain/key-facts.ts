import { formatMoney } from './money.js';

/**
 * The key-facts statement shown before a borrower commits (PBoC Announcement [2021] No. 3: the annualised rate must be
 * shown prominently in every marketing, contract and pre-draw page, computed as an IRR or, if by simple interest, with
 * the difference pointed out). Pure: every figure comes from the quote.
 */
export interface KeyFactsInput {
  readonly amountMinor: number;
  readonly currency: string;
  readonly termMonths: number;
  readonly method: string;
  readonly annualRate: number;
  readonly dailyRate: number;
  readonly aprIrrPercent: number;
  readonly aprSimplePercent: number;
  readonly totalInterestMinor: number;
  readonly totalFeesMinor: number;
  readonly totalRepayableMinor: number;
  readonly upfrontFeeMinor: number;
  /** Interest (and fees) if repaid in full after 10 days, when the loan accrues daily. */
  readonly tenDayCostMinor?: number;
  readonly validUntil: string;
  /** Fees the platform and the credit enhancer charge (in totalFeesMinor and in the annualised rates above). */
  readonly partnerFees?: readonly {
    readonly type: string;
    readonly feeRatePercent: number;
    readonly totalMinor: number;
  }[];
}

const PARTNER_ZH: Record<string, string> = {
  PLATFORM_OPERATOR: '平台服务费',
  CREDIT_ENHANCER: '担保（增信）费',
};
const PARTNER_EN: Record<string, string> = {
  PLATFORM_OPERATOR: 'platform service fee',
  CREDIT_ENHANCER: 'guarantee (credit enhancement) fee',
};

const METHOD_ZH: Record<string, string> = {
  EQUAL_INSTALLMENT: '等额本息',
  EQUAL_PRINCIPAL: '等额本金',
  INTEREST_ONLY: '先息后本',
  DAILY_INTEREST: '按日计息，随借随还',
};

const pct = (value: number, places = 2): string => `${value.toFixed(places)}%`;

export function keyFacts(q: KeyFactsInput): { zh: string; en: string } {
  const m = (minor: number) => formatMoney({ amountMinor: minor, currency: q.currency });
  const daily = pct(q.dailyRate * 100, 4);
  const zh = [
    `借款金额 ${m(q.amountMinor)}，期限 ${q.termMonths} 个月，还款方式：${METHOD_ZH[q.method] ?? q.method}。`,
    `年化利率（IRR，复利）${pct(q.aprIrrPercent)}；年化利率（单利）${pct(q.aprSimplePercent)}。单利口径按实际占用的本金和天数计算、不计复利，与 IRR（复利）口径的数值不同。`,
    `合同年利率 ${pct(q.annualRate * 100)}，日利率 ${daily}。`,
    `利息合计 ${m(q.totalInterestMinor)}，费用合计 ${m(q.totalFeesMinor)}（其中放款时扣收 ${m(q.upfrontFeeMinor)}），应还总额 ${m(q.totalRepayableMinor)}。`,
    ...(q.partnerFees ?? []).map(
      (f) =>
        `其中${PARTNER_ZH[f.type] ?? '合作机构费用'}年化 ${pct(f.feeRatePercent)}，合计 ${m(f.totalMinor)}，已计入上述年化利率。`,
    ),
    q.tenDayCostMinor === undefined
      ? '提前还款按合同约定办理。'
      : `可随时提前还款，只收取实际使用天数的利息，不收取未到期利息；例如 10 天后全部还清，利息 ${m(q.tenDayCostMinor)}。`,
    `本报价有效期至 ${q.validUntil}。`,
  ].join('');
  const en = [
    `Amount ${m(q.amountMinor)}, term ${q.termMonths} months, repayment ${q.method}. `,
    `Annualised rate (IRR, compound) ${pct(q.aprIrrPercent)}; annualised rate (simple) ${pct(q.aprSimplePercent)}. `,
    'The simple rate counts the principal actually used for the days it is used, without compounding; it differs from the IRR. ',
    `Contract rate ${pct(q.annualRate * 100)} a year, ${daily} a day. `,
    `Total interest ${m(q.totalInterestMinor)}, total fees ${m(q.totalFeesMinor)} (of which ${m(q.upfrontFeeMinor)} withheld at disbursement), total repayable ${m(q.totalRepayableMinor)}. `,
    ...(q.partnerFees ?? []).map(
      (f) =>
        `Included: a ${PARTNER_EN[f.type] ?? 'partner fee'} of ${pct(f.feeRatePercent)} a year, ${m(f.totalMinor)} in all, counted in the annualised rates above. `,
    ),
    q.tenDayCostMinor === undefined
      ? 'Early repayment as the contract states. '
      : `Repay any time: you pay interest only for the days used, never for days not yet elapsed; repaid in full after 10 days, the interest is ${m(q.tenDayCostMinor)}. `,
    `This quote is valid until ${q.validUntil}.`,
  ].join('');
  return { zh, en };
}
