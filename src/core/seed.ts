import { isoDate, MS_PER_DAY } from '../domain/index.js';
import { residentIdCheckChar } from '../domain/index.js';
import { seededRandom } from '../domain/index.js';
import { isLgError } from '../domain/index.js';
import type { RepaymentMethod } from '../domain/index.js';
import type { CoreServices } from './services.js';
import { seedLendingDemo, seedScamVictim, type LendingSeed, type ScamVictim } from './seed-lending.js';
import { BUREAU_FACT_NAMES } from './bureau-gate.js';

/**
 * Demo data for `npm start` on an empty store: borrowers with valid (generated, fictitious) resident IDs go through
 * the real application flow, some approved lines draw, and some loans take a repayment. The attribute draws come from
 * a seeded generator, so the same seed, clock and id source give the same data.
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
  } = {},
): Promise<SeedResult> {
  const { coreStore, clock } = core.deps;
  if (await coreStore.hasAnyBorrower())
    return { seeded: false, applications: 0, approved: 0, draws: 0, repayments: 0 };
  const rng = seededRandom(options.seed ?? 20_250_101);
  const count = options.borrowers ?? 20;
  let approved = 0;
  let draws = 0;
  let repayments = 0;
  for (let i = 0; i < count; i++) {
    const now = clock.now();
    const applicant = {
      name: `${pick(rng, SURNAMES)}${pick(rng, GIVEN)}`,
      nationalId: demoNationalId(rng, now),
      phone: `1${pick(rng, ['38', '39', '50', '58', '86', '88'])}${String(int(rng, 0, 99_999_999)).padStart(8, '0')}`,
    };
    const attributes = demoAttributes(rng);
    // With a bureau wired, the core pulls these itself and refuses them from a caller.
    if (core.deps.bureau) for (const name of BUREAU_FACT_NAMES) delete attributes[name];
    await options.beforeApplication?.(applicant.nationalId, 'book');
    const result = await core.submitApplication({ applicant, attributes });
    if (!result.line) continue;
    approved += 1;
    if (rng.next() < 0.3) continue;
    const amount = Math.max(
      100_00,
      Math.floor((result.line.limitMinor * (0.1 + 0.5 * rng.next())) / 100) * 100,
    );
    const method: RepaymentMethod = pick(rng, [
      'EQUAL_INSTALLMENT',
      'EQUAL_PRINCIPAL',
      'INTEREST_ONLY',
    ] as const);
    try {
      const draw = await core.requestDraw(result.line.id, {
        amountMinor: Math.min(amount, result.line.limitMinor),
        currency: result.line.currency,
        termMonths: pick(rng, [3, 6, 12]),
        method,
      });
      draws += 1;
      if (draw.loan && rng.next() < 0.5) {
        const first = draw.loan.schedule[0];
        if (first) {
          await core.repay(draw.loan.id, { amountMinor: first.totalMinor, currency: draw.loan.currency });
          repayments += 1;
        }
      }
    } catch (error) {
      // A declined or capped draw is a normal demo outcome; anything else is a bug and must surface.
      if (!isLgError(error)) throw error;
    }
  }
  if (!options.lending) return { seeded: true, applications: count, approved, draws, repayments };
  const lending = await seedLendingDemo(core, { beforeApplication: options.beforeApplication });
  const scamVictim = await seedScamVictim(core, { beforeApplication: options.beforeApplication });
  return { seeded: true, applications: count, approved, draws, repayments, lending, scamVictim };
}
