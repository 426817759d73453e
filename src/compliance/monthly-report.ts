import { LgError, MS_PER_DAY, lenderDayOf, lenderMonthBounds, type LenderCalendar } from '../domain/index.js';
import type { PortfolioReads } from './ports.js';
import { caseVolume, type CaseVolume } from './case-volumes.js';
import { bookLoansAt, endOfDay, type BookLoan } from './portfolio.js';

/**
 * The regulator-style monthly report of a month of the lender's calendar (LINEGUARD_LENDER_UTC_OFFSET: it runs from
 * midnight there on its first day to midnight there after its last): the book by line status and delinquency bucket
 * at the month's end (the end of its last day, reconstructed from the book's history as a snapshot of that day is,
 * whenever the report is run; for the month under way, the book as it stands), restrictions applied in the month with
 * their leading reason, credit-report inquiries by purpose, consents given and withdrawn, complaints and appeals
 * received, settled (late or not) and open at the month's end (case-volumes.ts).
 */
export interface MonthlyReport {
  readonly month: string;
  readonly linesByStatus: { status: string; lines: number }[];
  readonly loansByBucket: { bucket: string; loans: number; outstandingMinor: number }[];
  readonly restrictions: { type: string; reason: string; automated: boolean; count: number }[];
  readonly inquiries: { purpose: string; kind: string; status: string; count: number }[];
  readonly consents: { granted: number; withdrawn: number };
  readonly complaints: CaseVolume;
  readonly appeals: CaseVolume;
}

const RESTRICTIVE = ['LIMIT_DECREASE', 'FREEZE_DRAW', 'SUSPEND', 'CLOSE', 'RATE_CHANGE'];

/** A month (YYYY-MM) of the lender's calendar as [from, to); LG_VALIDATION when the text is not a month. */
export function monthBounds(month: string, calendar: LenderCalendar): { from: number; to: number } {
  const bounds = lenderMonthBounds(calendar, month);
  if (bounds === undefined) throw new LgError('LG_VALIDATION', `--month must be YYYY-MM, got "${month}"`);
  return bounds;
}

export async function monthlyReport(
  db: PortfolioReads,
  month: string,
  calendar: LenderCalendar,
): Promise<MonthlyReport> {
  const { from, to } = monthBounds(month, calendar);
  const restrictions = new Map<string, { type: string; reason: string; automated: boolean; count: number }>();
  for (const a of await db.appliedActions(from, to, RESTRICTIVE)) {
    const reason = (JSON.parse(a.reasons) as string[])[0] ?? 'none';
    const key = `${a.type}|${reason}|${a.automated}`;
    const entry = restrictions.get(key) ?? { type: a.type, reason, automated: a.automated === 1, count: 0 };
    entry.count += 1;
    restrictions.set(key, entry);
  }
  // The month's last day ends where the month does: its book is that day's snapshot's.
  const end = endOfDay(lenderDayOf(calendar, to - MS_PER_DAY), calendar);
  return {
    month,
    linesByStatus: (await db.linesByStatusAt(end.at)).map((r) => ({ status: r.status, lines: r.n })),
    loansByBucket: openLoansByBucket(await bookLoansAt(db, end)),
    restrictions: [...restrictions.values()].sort(
      (a, b) => a.type.localeCompare(b.type) || a.reason.localeCompare(b.reason),
    ),
    inquiries: (await db.inquiryCounts(from, to)).map((r) => ({
      purpose: r.purpose,
      kind: r.kind,
      status: r.status,
      count: r.n,
    })),
    consents: await db.consentCounts(from, to),
    complaints: caseVolume(await db.complaintVolumeRows(from, to), from, to),
    appeals: caseVolume(await db.appealVolumeRows(from, to), from, to),
  };
}

/** Open loans (principal outstanding) by bucket, in bucket order: count and outstanding principal. */
function openLoansByBucket(loans: readonly BookLoan[]): MonthlyReport['loansByBucket'] {
  const byBucket = new Map<string, { bucket: string; loans: number; outstandingMinor: number }>();
  for (const loan of loans) {
    if (loan.outstandingMinor <= 0) continue;
    const entry = byBucket.get(loan.bucket) ?? { bucket: loan.bucket, loans: 0, outstandingMinor: 0 };
    entry.loans += 1;
    entry.outstandingMinor += loan.outstandingMinor;
    byBucket.set(loan.bucket, entry);
  }
  return [...byBucket.values()].sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
}

/** One CSV (RFC 4180): section,key,detail,value — a row per figure, so a spreadsheet can pivot it. */
export function monthlyReportCsv(r: MonthlyReport): string {
  const rows: (string | number)[][] = [['section', 'key', 'detail', 'value']];
  for (const l of r.linesByStatus) rows.push(['lines_by_status', l.status, '', l.lines]);
  for (const b of r.loansByBucket) {
    rows.push(['loans_by_bucket', b.bucket, 'loans', b.loans]);
    rows.push(['loans_by_bucket', b.bucket, 'outstanding_minor', b.outstandingMinor]);
  }
  for (const x of r.restrictions)
    rows.push(['restrictions', x.type, `${x.reason}${x.automated ? ' (automated)' : ''}`, x.count]);
  for (const i of r.inquiries) rows.push(['inquiries', i.purpose, `${i.kind} ${i.status}`, i.count]);
  rows.push(
    ['consents', 'granted', '', r.consents.granted],
    ['consents', 'withdrawn', '', r.consents.withdrawn],
  );
  volumeRows(rows, 'complaints', r.complaints);
  volumeRows(rows, 'appeals', r.appeals);
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

function volumeRows(rows: (string | number)[][], section: string, v: CaseVolume): void {
  rows.push([section, 'received', '', v.received]);
  for (const [kind, n] of Object.entries(v.receivedByKind).sort()) rows.push([section, 'received', kind, n]);
  for (const [state, n] of Object.entries(v.settled).sort()) rows.push([section, 'settled', state, n]);
  rows.push(
    [section, 'settled_late', '', v.settledLate],
    [section, 'open_at_end', '', v.openAtEnd],
    [section, 'overdue_at_end', '', v.overdueAtEnd],
  );
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
