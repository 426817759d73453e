import { BUREAU_FACT_NAMES } from './bureau-gate.js';
import { isLgError } from '../domain/index.js';
import { PRODUCT_DEFAULTS, type ProductTerms } from '../domain/index.js';
import { isoDate, MS_PER_DAY } from '../domain/index.js';
import { residentIdCheckChar } from '../domain/index.js';
import type { CoreServices } from './services.js';

/**
 * The lending part of the demo book (issue 15): two products, a 助贷 platform channel with a partner bank and a
 * guarantor, and one co-lent line under the daily-interest product with a quoted ¥10,000 draw.
 */
export const DEMO_PRODUCTS: readonly { id: string; terms: ProductTerms }[] = [
  {
    id: 'daily-flex',
    terms: {
      ...PRODUCT_DEFAULTS,
      name: '随借随还 · 按日计息',
      currency: 'CNY',
      rateMin: 0.073,
      rateMax: 0.1825,
      dayCount: 'ACT_365',
      termsMonths: [3, 6, 12],
      methods: ['DAILY_INTEREST', 'EQUAL_INSTALLMENT', 'EQUAL_PRINCIPAL'],
      amountMinMinor: 10_000,
      amountMaxMinor: 20_000_000,
      lateFee: { amountMinor: 2_000, capMinor: 10_000 },
    },
  },
  {
    id: 'instalment-12',
    terms: {
      ...PRODUCT_DEFAULTS,
      name: '分期 · 12 期',
      currency: 'CNY',
      rateMin: 0.072,
      rateMax: 0.18,
      dayCount: 'ACT_360',
      termsMonths: [6, 12],
      methods: ['EQUAL_INSTALLMENT', 'EQUAL_PRINCIPAL'],
      amountMinMinor: 100_000,
      amountMaxMinor: 20_000_000,
      upfrontFee: { rateBps: 100, capMinor: 20_000 },
      prepayment: 'SHORTEN',
    },
  },
];

/** A strong applicant for the bundled strategy (a German-credit profile it approves). */
const STRONG = {
  monthlyIncomeMinor: 3_000_000,
  existingDebtMinor: 0,
  externalDelinquent: false,
  inquiries30d: 0,
  CheckingAccountStatus: 'none',
  Duration: 12,
  Amount: 2000,
  CreditHistory: 'Critical',
  Purpose: 'UsedCar',
  SavingsAccountBonds: 'gt.1000',
  EmploymentDuration: 'gt.7',
  InstallmentRatePercentage: 2,
  Personal: 'Male.Single',
  OtherDebtorsGuarantors: 'Guarantor',
  ResidenceDuration: 4,
  Property: 'RealEstate',
  OtherInstallmentPlans: 'None',
  Housing: 'Own',
  NumberExistingCredits: 1,
  Job: 'SkilledEmployee',
  NumberPeopleMaintenance: 1,
  Telephone: 1,
  ForeignWorker: 0,
};

export interface LendingSeed {
  readonly products: number;
  readonly partners: number;
  readonly coLentLineId: string | null;
  readonly quotedLoanId: string | null;
}

/**
 * A showcase applicant of the demo, 36 years old on the day it is seeded: the co-lent one (sequence 888) and the
 * scam victim (887).
 */
export function showcaseNationalId(now: number, sequence: '888' | '887' = '888'): string {
  const birth = isoDate(now - 36 * 365 * MS_PER_DAY).replace(/-/g, '');
  const first17 = `310101${birth}${sequence}`;
  return first17 + residentIdCheckChar(first17);
}

/** The demo's scam victim: a line and the loan the scam will take (the app reports what the phone saw next). */
export interface ScamVictim {
  readonly borrowerId: string;
  readonly lineId: string;
  readonly loanId: string;
  readonly principalMinor: number;
  readonly disbursedAt: number;
}

/**
 * A fresh line that draws ¥5,000 at once: the start of the "borrow, then transfer to a safe account" scam, so a fresh
 * install's console has an alert, a frozen line and a case to work once the app reports the rest of the pattern.
 */
export async function seedScamVictim(
  core: CoreServices,
  options: { beforeApplication?: (nationalId: string, role: 'book' | 'showcase') => Promise<void> } = {},
): Promise<ScamVictim | null> {
  const nationalId = showcaseNationalId(core.deps.clock.now(), '887');
  await options.beforeApplication?.(nationalId, 'showcase');
  const attributes: Record<string, unknown> = { ...STRONG };
  if (core.deps.bureau) for (const name of BUREAU_FACT_NAMES) delete attributes[name];
  try {
    const application = await core.submitApplication({
      applicant: { name: '钱示例', nationalId, phone: '13800000001' },
      attributes,
    });
    if (!application.line) return null;
    const booked = await core.requestDraw(application.line.id, {
      amountMinor: 500_000,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
    });
    if (!booked.loan) return null;
    return {
      borrowerId: application.borrowerId,
      lineId: application.line.id,
      loanId: booked.loan.id,
      principalMinor: booked.loan.principalMinor,
      disbursedAt: Date.parse(booked.loan.createdAt),
    };
  } catch (error) {
    // As for the co-lent line: a decline or a held draw is a demo outcome, anything else a bug.
    if (!isLgError(error)) throw error;
    return null;
  }
}

export async function seedLendingDemo(
  core: CoreServices,
  options: { beforeApplication?: (nationalId: string, role: 'book' | 'showcase') => Promise<void> } = {},
): Promise<LendingSeed> {
  for (const p of DEMO_PRODUCTS) await core.createProduct({ id: p.id, terms: p.terms, actor: 'seed' });
  const now = core.deps.clock.now();
  const contract = {
    contractStart: isoDate(now - 30 * MS_PER_DAY),
    contractEnd: isoDate(now + 730 * MS_PER_DAY),
  };
  const platform = await core.createPartner(
    {
      name: '示例助贷平台',
      type: 'PLATFORM_OPERATOR',
      licenceNo: 'DEMO-PLAT-001',
      feeRateBps: 200,
      concentrationMax: 0.5,
      ...contract,
    },
    'seed',
  );
  const bank = await core.createPartner(
    { name: '示例合作银行', type: 'FUNDER', licenceNo: 'DEMO-BANK-001', ...contract },
    'seed',
  );
  const guarantor = await core.createPartner(
    {
      name: '示例融资担保',
      type: 'CREDIT_ENHANCER',
      licenceNo: 'DEMO-GUAR-001',
      feeRateBps: 100,
      ...contract,
    },
    'seed',
  );
  const seeded = { products: DEMO_PRODUCTS.length, partners: 3 };
  try {
    const nationalId = showcaseNationalId(now);
    // The borrower consents to the credit-report pull first, as every applicant must when a bureau is wired.
    await options.beforeApplication?.(nationalId, 'showcase');
    const attributes: Record<string, unknown> = { ...STRONG };
    if (core.deps.bureau) for (const name of BUREAU_FACT_NAMES) delete attributes[name];
    const application = await core.submitApplication({
      applicant: { name: '赵示例', nationalId, phone: '13800000000' },
      attributes,
      productId: 'daily-flex',
      channel: {
        partnerId: platform.id,
        fundingMode: 'CO_LENDING',
        funders: [{ partnerId: bank.id, shareBps: 7_000 }],
        creditEnhancerId: guarantor.id,
      },
    });
    if (!application.line) return { ...seeded, coLentLineId: null, quotedLoanId: null };
    const draw = {
      amountMinor: 1_000_000,
      currency: 'CNY',
      termMonths: 12,
      method: 'DAILY_INTEREST' as const,
    };
    const quote = await core.createQuote(application.line.id, { ...draw, purpose: 'HOME_APPLIANCES' });
    const booked = await core.requestDraw(application.line.id, {
      ...draw,
      purpose: 'HOME_APPLIANCES',
      quoteId: quote.quoteId,
    });
    return { ...seeded, coLentLineId: application.line.id, quotedLoanId: booked.loan?.id ?? null };
  } catch (error) {
    // The strategy may decline or the draw may be held: a normal demo outcome. Anything else is a bug.
    if (!isLgError(error)) throw error;
    return { ...seeded, coLentLineId: null, quotedLoanId: null };
  }
}
