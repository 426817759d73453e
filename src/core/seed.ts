import { isoDate, MS_PER_DAY } from '../domain/index.js';
import { residentIdCheckChar } from '../domain/index.js';
import { seededRandom } from '../domain/index.js';
import { isLgError } from '../domain/index.js';
import type { RepaymentMethod } from '../domain/index.js';
import type { CoreServices } from './services.js';
import { seedLendingDemo, seedScamVictim, type LendingSeed, type ScamVictim } from './seed-lending.js';
import { SeedCalendar, type SeedHistory } from './seed-calendar.js';
import { BUREAU_FACT_NAMES } from './bureau-gate.js';
import { lenderDayOf } from '../domain/index.js';

/**
 * Demo data for `npm start` on an empty store: borrowers with valid (generated, fictitious) resident IDs go through
 * the real application flow, some approved lines draw, and some loans take a repayment. The attribute draws come from
 * a seeded generator, so the same seed, clock and id source give the same data. With a history (seed-calendar.ts) the
 * borrowers apply over its days, each loan's first instalment is paid on the day it falls due, and the nights
 * between run as they would have; without one it all happens now.
 */
export interface SeedResult {
  readonly seeded: boolean;
  readonly applications: number;
  readonly approved: number;
  readonly draws: number;
  readonly repayments: number;
  /** Products, partners and the co-lent line (seed-lending.ts). */
  readonly lending?: LendingSeed;
  /** With `lending`: the scam victim's line and loan, for the app to report the rest of the pattern. */
  readonly scamVictim?: ScamVictim | null;
}

const REGIONS = [
  '110101',
  '310101',
  '440106',
  '330106',
  '510107',
  '420106',
  '320102',
  '610113',
  '370102',
  '500103',
];
const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
];
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀英',
  '华',
  '平',
];

const SCORECARD_VALUES: Record<string, readonly (string | number)[]> = {
  CheckingAccountStatus: ['lt.0', '0.to.200', 'gt.200', 'none', 'none'],
  CreditHistory: ['Critical', 'Delay', 'NoCredit.AllPaid', 'PaidDuly', 'PaidDuly', 'ThisBank.AllPaid'],
  Purpose: [
    'Business',
    'DomesticAppliance',
    'Education',
    'Furniture.Equipment',
    'NewCar',
    'Radio.Television',
    'UsedCar',
  ],
  SavingsAccountBonds: ['lt.100', '100.to.500', '500.to.1000', 'gt.1000', 'Unknown'],
  EmploymentDuration: ['lt.1', '1.to.4', '4.to.7', 'gt.7'],
  Personal: ['Female.NotSingle', 'Male.Divorced.Seperated', 'Male.Married.Widowed', 'Male.Single'],
  OtherDebtorsGuarantors: ['CoApplicant', 'Guarantor', 'None', 'None'],
  Property: ['CarOther', 'Insurance', 'RealEstate', 'Unknown'],
  OtherInstallmentPlans: ['Bank', 'None', 'None', 'Stores'],
  Housing: ['ForFree', 'Own', 'Own', 'Rent'],
  Job: ['Management.SelfEmp.HighlyQualified', 'SkilledEmployee', 'SkilledEmployee', 'UnskilledResident'],
};

type Rng = ReturnType<typeof seededRandom>;

/**
 * With a history, the first loan drawn at least this many days back is the one whose borrower misses the first
 * instalment: due a month after the draw, at least two days before today, it is past due (M1) by the last night's
 * aging, and it was on the book, in M0, when the 30-day window of today's snapshot opened, so the demo's delinquency,
 * roll rates and bureau notices are not all nothing.
 */
const LATE_LOAN_FROM_DAYS_AGO = 33;
/**
 * That loan's principal (¥200): small, so the demo's M1+ stays under the early-warning thresholds (5%, and a rise of
 * 1 point); one of the book's usual size would raise an early-warning alert for each day it is late.
 */
const LATE_LOAN_MINOR = 20_000;

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng.next() * items.length)] as T;
}

function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng.next() * (max - min + 1));
}

/** A fictitious but checksum-valid resident ID (GB 11643-1999) for someone aged 20-58 on `today`. */
export function demoNationalId(rng: Rng, now: number): string {
  const birth = new Date(now - int(rng, 20 * 365 + 10, 58 * 365) * MS_PER_DAY);
  const ymd = isoDate(birth.getTime()).replace(/-/g, '');
  const first17 = `${pick(rng, REGIONS)}${ymd}${String(int(rng, 1, 999)).padStart(3, '0')}`;
  return first17 + residentIdCheckChar(first17);
}

function demoAttributes(rng: Rng): Record<string, string | number | boolean> {
  const income = int(rng, 3, 40) * 100_000;
  const attrs: Record<string, string | number | boolean> = {
    monthlyIncomeMinor: income,
    existingDebtMinor: int(rng, 0, 10) * 500_000,
    externalDelinquent: rng.next() < 0.1,
    inquiries30d: int(rng, 0, 6),
    Duration: pick(rng, [6, 12, 18, 24, 36, 48]),
    Amount: int(rng, 5, 100) * 100,
    InstallmentRatePercentage: int(rng, 1, 4),
    ResidenceDuration: int(rng, 1, 4),
    NumberExistingCredits: int(rng, 1, 3),
    NumberPeopleMaintenance: int(rng, 1, 2),
    Telephone: int(rng, 0, 1),
    ForeignWorker: 0,
  };
  for (const [name, values] of Object.entries(SCORECARD_VALUES)) attrs[name] = pick(rng, values);
  return attrs;
}

export async function seedDemo(
  core: CoreServices,
  options: {
    seed?: number;
    borrowers?: number;
    lending?: boolean;
    /**
     * Runs before each demo application (e.g. records the borrower's credit-inquiry consent). `showcase` is the
     * co-lent applicant whose line and quoted loan the lending views show, who must be granted.
     */
    beforeApplication?: (nationalId: string, role: 'book' | 'showcase') => Promise<void>;
    /** The days the book grows over, up to now (the lending demo and the scam victim come on the last). */
    history?: SeedHistory;
  } = {},
): Promise<SeedResult> {
  const { coreStore, clock } = core.deps;
  if (await coreStore.hasAnyBorrower())
    return { seeded: false, applications: 0, approved: 0, draws: 0, repayments: 0 };
  const rng = seededRandom(options.seed ?? 20_250_101);
  const count = options.borrowers ?? 20;
  const calendar = new SeedCalendar(clock, options.history, (ms) => lenderDayOf(core.deps.config, ms));
  const days = options.history?.days ?? 0;
  const book = { approved: 0, draws: 0, repayments: 0, lateLoan: false };
  for (let i = 0; i < count; i++) {
    // The first applies on the history's first day, the last a day or two before today.
    await calendar.advanceTo(days - Math.floor((i * days) / count));
    await seedBorrower(core, rng, calendar, book, options.beforeApplication);
  }
  await calendar.advanceTo(0);
  const { approved, draws, repayments } = book;
  if (!options.lending) return { seeded: true, applications: count, approved, draws, repayments };
  const lending = await seedLendingDemo(core, { beforeApplication: options.beforeApplication });
  const scamVictim = await seedScamVictim(core, { beforeApplication: options.beforeApplication });
  return { seeded: true, applications: count, approved, draws, repayments, lending, scamVictim };
}

/** One demo borrower on the calendar's day: applies, and if granted may draw, and the loan may take a repayment. */
async function seedBorrower(
  core: CoreServices,
  rng: Rng,
  calendar: SeedCalendar,
  book: { approved: number; draws: number; repayments: number; lateLoan: boolean },
  beforeApplication: ((nationalId: string, role: 'book' | 'showcase') => Promise<void>) | undefined,
): Promise<void> {
  const now = core.deps.clock.now();
  const applicant = {
    name: `${pick(rng, SURNAMES)}${pick(rng, GIVEN)}`,
    nationalId: demoNationalId(rng, now),
    phone: `1${pick(rng, ['38', '39', '50', '58', '86', '88'])}${String(int(rng, 0, 99_999_999)).padStart(8, '0')}`,
  };
  const attributes = demoAttributes(rng);
  // With a bureau wired, the core pulls these itself and refuses them from a caller.
  if (core.deps.bureau) for (const name of BUREAU_FACT_NAMES) delete attributes[name];
  await beforeApplication?.(applicant.nationalId, 'book');
  const result = await core.submitApplication({ applicant, attributes });
  if (!result.line) return;
  book.approved += 1;
  if (rng.next() < 0.3) return;
  const amount = Math.max(
    100_00,
    Math.floor((result.line.limitMinor * (0.1 + 0.5 * rng.next())) / 100) * 100,
  );
  const method: RepaymentMethod = pick(rng, [
    'EQUAL_INSTALLMENT',
    'EQUAL_PRINCIPAL',
    'INTEREST_ONLY',
  ] as const);
  const late = !book.lateLoan && calendar.daysAgo >= LATE_LOAN_FROM_DAYS_AGO;
  try {
    const draw = await core.requestDraw(result.line.id, {
      amountMinor: late ? LATE_LOAN_MINOR : Math.min(amount, result.line.limitMinor),
      currency: result.line.currency,
      termMonths: pick(rng, [3, 6, 12]),
      method,
    });
    book.draws += 1;
    if (!draw.loan) return;
    book.lateLoan ||= late;
    const loan = draw.loan;
    const picked = rng.next() < 0.5;
    const first = loan.schedule[0];
    if (!first || late) return;
    // Due by today: paid on its due date (a payment before it prepays principal and leaves the instalment due). Due
    // later: paid today by the borrowers the generator picks, ahead of time (principal, as the demo always did).
    const due = calendar.daysAgoOfLenderDate(first.dueDate);
    if (due < 0 && !picked) return;
    await calendar.on(Math.max(due, 0), () =>
      demoOutcome(async () => {
        await core.repay(loan.id, { amountMinor: first.totalMinor, currency: loan.currency });
        book.repayments += 1;
      }),
    );
  } catch (error) {
    // A declined or capped draw is a normal demo outcome; anything else is a bug and must surface.
    if (!isLgError(error)) throw error;
  }
}

/** Runs a step whose refusal (an LgError) is a normal demo outcome; anything else is a bug and must surface. */
async function demoOutcome(step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (!isLgError(error)) throw error;
  }
}
