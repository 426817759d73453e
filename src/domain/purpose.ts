import { LgError } from './errors.js';

/**
 * 资金用途: what a consumer loan may be for. Consumer credit may not fund house purchases or down payments,
 * securities, futures, wealth-management and other investment products, or gambling (《商业银行互联网贷款管理暂行办法》
 * 2020 on the use of internet-loan funds; 《个人贷款管理暂行办法》; the 2021 joint notice on consumer loans flowing into
 * housing). Repaying other loans is forbidden where the product says so (it hides multi-lender stacking, 多头借贷).
 */
export interface PurposeEntry {
  readonly code: string;
  readonly zh: string;
  readonly en: string;
  readonly allowed: boolean;
  /** Forbidden only on products with forbidLoanRepayment. */
  readonly productRule?: 'forbidLoanRepayment';
}

export const PURPOSES: readonly PurposeEntry[] = [
  { code: 'DAILY_CONSUMPTION', zh: '日常消费', en: 'everyday spending', allowed: true },
  { code: 'HOME_APPLIANCES', zh: '家电数码', en: 'appliances and electronics', allowed: true },
  { code: 'HOME_RENOVATION', zh: '装修', en: 'home renovation', allowed: true },
  { code: 'EDUCATION', zh: '教育培训', en: 'education and training', allowed: true },
  { code: 'TRAVEL', zh: '旅游', en: 'travel', allowed: true },
  { code: 'MEDICAL', zh: '医疗', en: 'medical care', allowed: true },
  { code: 'WEDDING', zh: '婚庆', en: 'wedding', allowed: true },
  { code: 'RENT', zh: '租房', en: 'rent', allowed: true },
  { code: 'CAR_PURCHASE', zh: '购车', en: 'car purchase', allowed: true },
  { code: 'HOUSE_PURCHASE', zh: '购房', en: 'buying a home', allowed: false },
  { code: 'HOUSE_DOWN_PAYMENT', zh: '购房首付', en: 'a home down payment', allowed: false },
  { code: 'SECURITIES', zh: '股票证券投资', en: 'stocks and securities', allowed: false },
  { code: 'FUTURES', zh: '期货及衍生品', en: 'futures and derivatives', allowed: false },
  { code: 'WEALTH_PRODUCTS', zh: '理财及资管产品', en: 'wealth-management products', allowed: false },
  { code: 'GAMBLING', zh: '赌博', en: 'gambling', allowed: false },
  {
    code: 'LOAN_REPAYMENT',
    zh: '偿还其他贷款',
    en: 'repaying other loans',
    allowed: true,
    productRule: 'forbidLoanRepayment',
  },
];

const BY_CODE = new Map(PURPOSES.map((p) => [p.code, p]));

/**
 * Words in a free-text purpose that name a forbidden use (legacy clients send text, e.g. "STOCK_INVESTMENT_买房首付").
 * Checked as well as the code, so that text cannot smuggle a forbidden use past the catalogue.
 */
const FORBIDDEN_WORDS: readonly [RegExp, string][] = [
  [/买房|购房|房款|house|home[\s_-]*purchase|real[\s_-]*estate|property/i, 'HOUSE_PURCHASE'],
  [/首付|down[\s_-]*payment/i, 'HOUSE_DOWN_PAYMENT'],
  [/股票|证券|炒股|配资|stock|securit|shares|equit/i, 'SECURITIES'],
  [/期货|期权|衍生|futures|option|derivativ|crypto|虚拟货币|比特币/i, 'FUTURES'],
  [/理财|资管|基金|wealth|fund[\s_-]*product|invest/i, 'WEALTH_PRODUCTS'],
  [/赌|博彩|彩票|gambl|casino|betting|lottery/i, 'GAMBLING'],
];

export interface PurposeVerdict {
  readonly code: string;
  readonly allowed: boolean;
  /** Borrower-readable, when refused. */
  readonly reason?: { readonly zh: string; readonly en: string };
}

function refused(entry: PurposeEntry, why: 'law' | 'product'): PurposeVerdict {
  const zh =
    why === 'law'
      ? `消费贷款不得用于${entry.zh}。请选择其他用途，或通过合规渠道办理相应业务。`
      : `本产品的借款不得用于${entry.zh}。`;
  const en =
    why === 'law'
      ? `A consumer loan may not be used for ${entry.en}. Please choose another purpose.`
      : `This product's loans may not be used for ${entry.en}.`;
  return { code: entry.code, allowed: false, reason: { zh, en } };
}

/**
 * The verdict on a stated purpose: a catalogue code, or free text screened for forbidden uses. An unknown code that
 * names nothing forbidden is LG_PURPOSE_UNKNOWN when `requireCatalogue` (product lines), else kept as free text.
 */
export function judgePurpose(
  stated: string,
  options: { forbidLoanRepayment: boolean; requireCatalogue: boolean },
): PurposeVerdict {
  const entry = BY_CODE.get(stated.trim().toUpperCase());
  if (entry) {
    if (!entry.allowed) return refused(entry, 'law');
    if (entry.productRule === 'forbidLoanRepayment' && options.forbidLoanRepayment)
      return refused(entry, 'product');
    return { code: entry.code, allowed: true };
  }
  for (const [pattern, code] of FORBIDDEN_WORDS) {
    const forbidden = BY_CODE.get(code);
    if (forbidden && pattern.test(stated)) return refused(forbidden, 'law');
  }
  if (/还款|还贷|借新还旧|repay|refinanc/i.test(stated) && options.forbidLoanRepayment) {
    return refused(BY_CODE.get('LOAN_REPAYMENT') as PurposeEntry, 'product');
  }
  if (options.requireCatalogue) {
    throw new LgError('LG_PURPOSE_UNKNOWN', 'purpose must be one of the catalogue codes', {
      purpose: stated,
      allowed: PURPOSES.filter((p) => p.allowed).map((p) => p.code),
    });
  }
  return { code: stated, allowed: true };
}

/** The refusal a draw or quote gets for a forbidden purpose: 422 with the borrower's reason in zh and en. */
export function purposeError(verdict: PurposeVerdict): LgError {
  return new LgError('LG_PURPOSE_FORBIDDEN', verdict.reason?.en ?? 'the stated purpose is not allowed', {
    purpose: verdict.code,
    borrowerReason: verdict.reason,
  });
}
