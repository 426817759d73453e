import {
  DEFAULT_BUCKETS,
  MS_PER_DAY,
  isoDay,
  lenderDayEnd,
  parseIsoDay,
  type DelinquencyBucket,
  type LenderCalendar,
} from '../domain/index.js';
import { psi } from '../scoring/index.js';
import type { BookInstant, PortfolioReads } from './ports.js';
import type { FieldCrypto } from './crypto.js';
import { openDecisionResult } from './sealed-decisions.js';
import { isSealedDataUnreadable } from './sealed-pair.js';
import { caseVolume, type CaseVolume } from './case-volumes.js';

/**
 * A daily portfolio snapshot, the figures a lender's risk committee and a regulator look at: the book by bucket,
 * product and channel, delinquency (M1+/M2+), roll rates between buckets, vintage curves, decision and restriction
 * rates, alerts by typology and score drift (PSI). Flows (decisions, actions, alerts) are counted over the 30 days up
 * to the as-of date; roll rates follow the loans in each bucket at the window's start to the end of the as-of day.
 *
 * Balances are the book as it stood at the end of the as-of day (the window's end, exclusive), whenever the snapshot
 * is computed, reconstructed from the history the book keeps (PortfolioReads.loanFacts and linesByStatusAt): the
 * loans started on or before the day; each one's outstanding principal then, its principal less the principal part
 * of the repayments paid before the day ended; open = principal still outstanding and not settled by then; its
 * bucket from its latest aging for a day up to the as-of day; its channel from the loan-approval consents given by
 * then; the lines opened by then, each in the status its applied actions had left it in. So a month backfilled
 * today shows the book growing as it grew, and a snapshot of today is the book as it stands.
 *
 * Every figure is as of the day; none is the book as it stands now. The history is the book's record as it is when
 * the snapshot is computed: a repayment recorded later but dated on or before the day (a back-dated paidAt) counts,
 * so recomputing a past day after one can change it; the stored snapshot keeps what was computed then. The day is the
 * lender's (LINEGUARD_LENDER_UTC_OFFSET, domain/lender-calendar.ts), as a loan's start date and an aging's day are: it
 * ends at midnight there, and so does the flows' window, so what happens at 01:00 in Beijing is the next day's even
 * though it is still the day before in UTC.
 */
export const WINDOW_DAYS = 30;
export const PSI_BINS = 10;
export const PSI_BASELINE_MIN_SCORES = 20;

export interface BookSlice {
  loans: number;
  outstandingMinor: number;
}

export interface Vintage {
  readonly month: string;
  readonly monthsOnBook: number;
  readonly loans: number;
  readonly principalMinor: number;
  readonly outstandingMinor: number;
  /** Share of the vintage's original principal now outstanding in M1 or worse. */
  readonly m1PlusRate: number;
  readonly m2PlusRate: number;
}

export interface PortfolioSnapshot {
  readonly asOf: string;
  readonly windowDays: number;
  readonly lines: Record<string, number>;
  readonly openLoans: number;
  readonly outstandingMinor: number;
  readonly byBucket: Record<string, BookSlice>;
  /** Product = the loan's repayment method (the book has no product catalogue yet). */
  readonly byProduct: Record<string, BookSlice>;
  /** Channel = where the borrower gave the LOAN_APPROVAL consent (APP, WEB, …); UNKNOWN without one. */
  readonly byChannel: Record<string, BookSlice>;
  /** Outstanding principal in M1 or worse (M2 or worse) over all outstanding principal. */
  readonly m1PlusRate: number;
  readonly m2PlusRate: number;
  /** 'M1->M2': of the loans open in M1 at the window's start, the share open in M2 at its end (rollRates). */
  readonly rollRates: Record<string, number>;
  readonly vintages: Vintage[];
  readonly decisions: {
    readonly applications: number;
    readonly approvalRate: number;
    readonly declineRate: number;
    readonly reviewRate: number;
  };
  readonly restrictions: {
    readonly freezes: number;
    readonly suspensions: number;
    readonly closures: number;
    /** Per line on the book at the as-of date. */
    readonly freezeRate: number;
    readonly suspensionRate: number;
  };
  readonly alertsByTypology: Record<string, { alerts: number; closed: number }>;
  readonly inquiries: Record<string, number>;
  readonly score: {
    readonly count: number;
    readonly psi: number | null;
    readonly baselineAsOf: string | null;
    /**
     * Application results in the window no held key opens (sealed under a key not configured here, or altered): left
     * out of `count` and the PSI. Present only when there are some.
     */
    readonly unreadable?: number;
  };
  /** Complaints and appeals over the window (case-volumes.ts); null in snapshots taken before they were counted. */
  readonly complaints: CaseVolume | null;
  readonly appeals: CaseVolume | null;
}

export interface ScoreBaseline {
  readonly edges: number[];
  readonly proportions: number[];
  readonly count: number;
  readonly asOf: string;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

function addTo(map: Record<string, BookSlice>, key: string, outstanding: number): void {
  const slice = (map[key] ??= { loans: 0, outstandingMinor: 0 });
  slice.loans += 1;
  slice.outstandingMinor += outstanding;
}

/** The window (end exclusive) of the 30 lender's days up to and including the as-of date. */
export function windowOf(asOf: string, calendar: LenderCalendar): { from: number; to: number } {
  const to = endOfDay(asOf, calendar).at;
  return { from: to - WINDOW_DAYS * MS_PER_DAY, to };
}

export async function computeSnapshot(
  db: PortfolioReads,
  asOf: string,
  options: {
    buckets?: readonly DelinquencyBucket[];
    baseline?: ScoreBaseline | null;
    /** The lender's calendar the day is on; UTC when not given. */
    calendar?: LenderCalendar;
    /** Opens the application results (their scores); without it only results stored in clear are read. */
    crypto?: FieldCrypto;
  } = {},
): Promise<{ snapshot: PortfolioSnapshot; scores: number[] }> {
  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  const calendar = options.calendar ?? {};
  const first = buckets[0]?.name ?? 'M0';
  const second = buckets[1]?.name;
  const { from, to } = windowOf(asOf, calendar);
  const book = await readBook(db, endOfDay(asOf, calendar), { first, second });
  // The book when the window opened (the end of the day before its first): the roll rates' cohorts.
  const atStart = await bookLoansAt(db, endOfDay(daysBefore(asOf, WINDOW_DAYS), calendar));
  const flows = await readFlows(db, { from, to }, options.crypto);
  const linesOnBook = Object.values(book.lines).reduce((a, b) => a + b, 0);
  const scores = flows.scores;
  const baseline = options.baseline ?? null;
  const snapshot: PortfolioSnapshot = {
    asOf,
    windowDays: WINDOW_DAYS,
    lines: book.lines,
    openLoans: book.openLoans,
    outstandingMinor: book.outstandingMinor,
    byBucket: book.byBucket,
    byProduct: book.byProduct,
    byChannel: book.byChannel,
    m1PlusRate: ratio(book.m1PlusMinor, book.outstandingMinor),
    m2PlusRate: ratio(book.m2PlusMinor, book.outstandingMinor),
    rollRates: rollRates(buckets, atStart, book.loans),
    vintages: vintages(book.loans, asOf, first, second),
    decisions: {
      applications: flows.applications.total,
      approvalRate: ratio(flows.applications.APPROVE, flows.applications.total),
      declineRate: ratio(flows.applications.DECLINE, flows.applications.total),
      reviewRate: ratio(flows.applications.REVIEW, flows.applications.total),
    },
    restrictions: {
      freezes: flows.actions.FREEZE_DRAW,
      suspensions: flows.actions.SUSPEND,
      closures: flows.actions.CLOSE,
      freezeRate: ratio(flows.actions.FREEZE_DRAW, linesOnBook),
      suspensionRate: ratio(flows.actions.SUSPEND, linesOnBook),
    },
    alertsByTypology: flows.alerts,
    inquiries: flows.inquiries,
    score: {
      count: scores.length,
      psi: baseline && scores.length > 0 ? psiAgainst(baseline, scores) : null,
      baselineAsOf: baseline?.asOf ?? null,
      ...(flows.unreadableScores > 0 ? { unreadable: flows.unreadableScores } : {}),
    },
    complaints: caseVolume(await db.complaintVolumeRows(from, to), from, to),
    appeals: caseVolume(await db.appealVolumeRows(from, to), from, to),
  };
  return { snapshot, scores };
}

/** A loan as it stood at an instant: its outstanding principal then (nothing once settled by then), its bucket then. */
export interface BookLoan {
  readonly loanId: string;
  readonly borrowerId: string;
  readonly method: string;
  readonly bucket: string;
  readonly startDate: string;
  readonly principalMinor: number;
  readonly outstandingMinor: number;
}

/** The end of a day (YYYY-MM-DD) on the lender's calendar, the instant the book of that day is reconstructed at. */
export function endOfDay(date: string, calendar: LenderCalendar): BookInstant {
  const at = lenderDayEnd(calendar, date);
  if (at === undefined) throw new RangeError(`not a date: ${date}`);
  return { date, at };
}

/** The calendar date `days` days before a date (YYYY-MM-DD). */
function daysBefore(date: string, days: number): string {
  const day = parseIsoDay(date);
  if (day === undefined) throw new RangeError(`not a date: ${date}`);
  return isoDay(day - days);
}

/**
 * The loans started by `asOf.date` as they stood at `asOf.at` (PortfolioReads.loanFacts), settled ones included with
 * nothing outstanding; open = outstanding > 0. What the snapshot and the monthly report read the book's loans from.
 */
export async function bookLoansAt(
  db: Pick<PortfolioReads, 'loanFacts'>,
  asOf: BookInstant,
): Promise<BookLoan[]> {
  return (await db.loanFacts(asOf)).map((r) => {
    // A settlement records when it was booked, never before its last repayment's paid_at: settled by then means
    // nothing was outstanding then (a guard, should the two ever disagree).
    const settled = r.settledAt !== null && r.settledAt < asOf.at;
    const outstandingMinor = settled ? 0 : Math.max(0, r.outstandingMinor);
    return {
      loanId: r.loanId,
      borrowerId: r.borrowerId,
      method: r.method,
      bucket: r.bucket,
      startDate: r.startDate,
      principalMinor: r.principalMinor,
      outstandingMinor,
    };
  });
}

/** The book at the end of the as-of day: lines by status, and loans by bucket, product, channel and vintage. */
async function readBook(
  db: PortfolioReads,
  asOf: BookInstant,
  buckets: { first: string; second: string | undefined },
) {
  const { first, second } = buckets;
  const lines: Record<string, number> = {};
  for (const r of await db.linesByStatusAt(asOf.at)) lines[r.status] = r.n;
  const channels = new Map((await db.loanApprovalChannels(asOf.at)).map((r) => [r.borrowerId, r.channel]));
  const byBucket: Record<string, BookSlice> = {};
  const byProduct: Record<string, BookSlice> = {};
  const byChannel: Record<string, BookSlice> = {};
  const loans = await bookLoansAt(db, asOf);
  let outstandingMinor = 0;
  let m1PlusMinor = 0;
  let m2PlusMinor = 0;
  let openLoans = 0;
  for (const r of loans) {
    const outstanding = r.outstandingMinor;
    if (outstanding <= 0) continue;
    openLoans += 1;
    outstandingMinor += outstanding;
    if (r.bucket !== first) m1PlusMinor += outstanding;
    if (r.bucket !== first && r.bucket !== second) m2PlusMinor += outstanding;
    addTo(byBucket, r.bucket, outstanding);
    addTo(byProduct, r.method, outstanding);
    addTo(byChannel, channels.get(r.borrowerId) ?? 'UNKNOWN', outstanding);
  }
  return {
    lines,
    byBucket,
    byProduct,
    byChannel,
    loans,
    outstandingMinor,
    m1PlusMinor,
    m2PlusMinor,
    openLoans,
  };
}

async function readFlows(
  db: PortfolioReads,
  { from, to }: { from: number; to: number },
  crypto: FieldCrypto | undefined,
) {
  const apps = await db.applicationOutcomes(from, to);
  const count = (outcome: string) => apps.find((r) => r.outcome === outcome)?.n ?? 0;
  const applications = {
    total: apps.reduce((s, r) => s + r.n, 0),
    APPROVE: count('APPROVE'),
    DECLINE: count('DECLINE'),
    REVIEW: count('REVIEW'),
  };
  const actionRows = await db.appliedActionCounts(from, to);
  const applied = (type: string) => actionRows.find((r) => r.type === type)?.n ?? 0;
  const actions = {
    FREEZE_DRAW: applied('FREEZE_DRAW'),
    SUSPEND: applied('SUSPEND'),
    CLOSE: applied('CLOSE'),
  };
  const alerts: Record<string, { alerts: number; closed: number }> = {};
  for (const r of await db.alerts(from, to)) {
    const entry = (alerts[r.typologyId] ??= { alerts: 0, closed: 0 });
    entry.alerts += 1;
    if (r.status === 'CLOSED') entry.closed += 1;
  }
  const inquiries: Record<string, number> = {};
  for (const r of await db.inquiryCounts(from, to)) {
    const key = `${r.purpose}:${r.status}`;
    inquiries[key] = (inquiries[key] ?? 0) + r.n;
  }
  const { scores, unreadable: unreadableScores } = applicationScores(
    await db.applicationResults(from, to),
    crypto,
  );
  return { applications, actions, alerts, inquiries, scores, unreadableScores };
}

/** The scores among application results (sealed: opened with `crypto`); those no held key opens are counted apart. */
function applicationScores(
  stored: readonly { readonly id: string; readonly result: string }[],
  crypto: FieldCrypto | undefined,
): { scores: number[]; unreadable: number } {
  const scores: number[] = [];
  let unreadable = 0;
  for (const { id, result } of stored) {
    let opened: string;
    try {
      opened = openDecisionResult(crypto, id, result).result;
    } catch (error) {
      if (!isSealedDataUnreadable(error)) throw error;
      unreadable += 1;
      continue;
    }
    const score = scoreOf(opened);
    if (score !== undefined) scores.push(score);
  }
  return { scores, unreadable };
}

function scoreOf(resultJson: string): number | undefined {
  try {
    const result = JSON.parse(resultJson) as { values?: Record<string, unknown> };
    const score = result.values?.score;
    return typeof score === 'number' && Number.isFinite(score) ? score : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Roll (flow) rate X→Y over the window, the lending reference's 迁徙率: of the loans open in bucket X when the window
 * opened (the end of the day before its first), the share open in bucket Y at its end (the end of the as-of day). It
 * follows a cohort, each loan by its id at both ends: a loan booked inside the window was in no bucket when it opened
 * and counts in neither part, even if it fell behind within it; a loan in X at the start that is settled, cured or
 * still in X at the end (or one that went through Y to a worse bucket, possible only with buckets narrower than the
 * window) stays in the denominator only. Counted by loans, not weighted by balance as the reference's is: the snapshot
 * has always counted loans and the early-warning threshold (M1→M2) is set on that. No loan in X at the start: 0.
 * Adjacent buckets only, the ones a committee reads.
 */
export function rollRates(
  buckets: readonly DelinquencyBucket[],
  atStart: readonly BookLoan[],
  atEnd: readonly BookLoan[],
): Record<string, number> {
  const open = (loans: readonly BookLoan[]) => loans.filter((l) => l.outstandingMinor > 0);
  const startOpen = open(atStart);
  const endBucket = new Map(open(atEnd).map((l) => [l.loanId, l.bucket]));
  const rates: Record<string, number> = {};
  for (let i = 0; i + 1 < buckets.length; i++) {
    const x = (buckets[i] as DelinquencyBucket).name;
    const y = (buckets[i + 1] as DelinquencyBucket).name;
    const cohort = startOpen.filter((l) => l.bucket === x);
    const rolled = cohort.filter((l) => endBucket.get(l.loanId) === y).length;
    rates[`${x}->${y}`] = ratio(rolled, cohort.length);
  }
  return rates;
}

function vintages(
  loans: readonly BookLoan[],
  asOf: string,
  first: string,
  second: string | undefined,
): Vintage[] {
  const byMonth = new Map<
    string,
    { loans: number; principal: number; outstanding: number; m1: number; m2: number }
  >();
  // The loans started by the as-of day (loanFacts), settled ones with nothing outstanding: a vintage keeps them all.
  for (const loan of loans) {
    const month = loan.startDate.slice(0, 7);
    const v = byMonth.get(month) ?? { loans: 0, principal: 0, outstanding: 0, m1: 0, m2: 0 };
    v.loans += 1;
    v.principal += loan.principalMinor;
    v.outstanding += loan.outstandingMinor;
    if (loan.bucket !== first) v.m1 += loan.outstandingMinor;
    if (loan.bucket !== first && loan.bucket !== second) v.m2 += loan.outstandingMinor;
    byMonth.set(month, v);
  }
  const [ay, am] = asOf.split('-').map(Number) as [number, number];
  return [...byMonth.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([month, v]) => {
      const [y, m] = month.split('-').map(Number) as [number, number];
      return {
        month,
        monthsOnBook: (ay - y) * 12 + (am - m),
        loans: v.loans,
        principalMinor: v.principal,
        outstandingMinor: v.outstanding,
        m1PlusRate: ratio(v.m1, v.principal),
        m2PlusRate: ratio(v.m2, v.principal),
      };
    });
}

/** Decile edges and proportions of a score sample: the PSI baseline. */
export function baselineOf(scores: readonly number[], asOf: string): ScoreBaseline {
  const sorted = [...scores].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < PSI_BINS; i++) edges.push(sorted[Math.floor((i * sorted.length) / PSI_BINS)] as number);
  return { edges, proportions: binShares(edges, sorted), count: sorted.length, asOf };
}

function binShares(edges: readonly number[], scores: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const s of scores) {
    let bin = 0;
    while (bin < edges.length && s >= (edges[bin] as number)) bin += 1;
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts.map((c) => c / Math.max(scores.length, 1));
}

export function psiAgainst(baseline: ScoreBaseline, scores: readonly number[]): number {
  return psi(baseline.proportions, binShares(baseline.edges, scores));
}
