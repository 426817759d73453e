import { parseIsoDate } from '../domain/clock.js';
import { LgError } from '../domain/errors.js';
import type { Db } from '../store/db.js';

/**
 * The regulator-style monthly report: the book by line status and delinquency bucket (as it stands), restrictions
 * applied in the month with their leading reason, credit-report inquiries by purpose, consents given and withdrawn.
 * Complaints and appeals are not yet recorded by LineGuard and are reported as null, not as zero.
 */
export interface MonthlyReport {
  readonly month: string;
  readonly linesByStatus: { status: string; lines: number }[];
  readonly loansByBucket: { bucket: string; loans: number; outstandingMinor: number }[];
  readonly restrictions: { type: string; reason: string; automated: boolean; count: number }[];
  readonly inquiries: { purpose: string; kind: string; status: string; count: number }[];
  readonly consents: { granted: number; withdrawn: number };
  readonly complaints: null;
  readonly appeals: null;
}

const RESTRICTIVE = ['LIMIT_DECREASE', 'FREEZE_DRAW', 'SUSPEND', 'CLOSE', 'RATE_CHANGE'];

export function monthBounds(month: string): { from: number; to: number } {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const from = match ? parseIsoDate(`${month}-01`) : undefined;
  if (!match || from === undefined)
    throw new LgError('LG_VALIDATION', `--month must be YYYY-MM, got "${month}"`);
  const y = Number(match[1]);
  const m = Number(match[2]);
  return { from, to: Date.UTC(m === 12 ? y + 1 : y, m === 12 ? 0 : m, 1) };
}

export async function monthlyReport(db: Db, month: string): Promise<MonthlyReport> {
  const { from, to } = monthBounds(month);
  const lines = await db
    .selectFrom('credit_lines')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .orderBy('status')
    .execute();
  const loans = await db
    .selectFrom('loans')
    .select([
      'bucket',
      (eb) => eb.fn.countAll<number>().as('n'),
      (eb) => eb.fn.sum<number>('outstanding_principal_minor').as('o'),
    ])
    .where('settled_at', 'is', null)
    .groupBy('bucket')
    .orderBy('bucket')
    .execute();
  const actions = await db
    .selectFrom('line_actions')
    .select(['type', 'reasons', 'automated'])
    .where('outcome', '=', 'APPLIED')
    .where('type', 'in', RESTRICTIVE)
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .execute();
  const restrictions = new Map<string, { type: string; reason: string; automated: boolean; count: number }>();
  for (const a of actions) {
    const reason = (JSON.parse(a.reasons) as string[])[0] ?? 'none';
    const key = `${a.type}|${reason}|${a.automated}`;
    const entry = restrictions.get(key) ?? {
      type: a.type,
      reason,
      automated: Number(a.automated) === 1,
      count: 0,
    };
    entry.count += 1;
    restrictions.set(key, entry);
  }
  const inquiries = await db
    .selectFrom('bureau_inquiries')
    .select(['purpose', 'kind', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .groupBy(['purpose', 'kind', 'status'])
    .orderBy('purpose')
    .orderBy('kind')
    .orderBy('status')
    .execute();
  const granted = await db
    .selectFrom('consents')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('granted_at', '>=', from)
    .where('granted_at', '<', to)
    .executeTakeFirst();
  const withdrawn = await db
    .selectFrom('consents')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('withdrawn_at', '>=', from)
    .where('withdrawn_at', '<', to)
    .executeTakeFirst();
  return {
    month,
    linesByStatus: lines.map((r) => ({ status: r.status, lines: Number(r.n) })),
    loansByBucket: loans.map((r) => ({
      bucket: r.bucket,
      loans: Number(r.n),
      outstandingMinor: Number(r.o ?? 0),
    })),
    restrictions: [...restrictions.values()].sort(
      (a, b) => a.type.localeCompare(b.type) || a.reason.localeCompare(b.reason),
    ),
    inquiries: inquiries.map((r) => ({
      purpose: r.purpose,
      kind: r.kind,
      status: r.status,
      count: Number(r.n),
    })),
    consents: { granted: Number(granted?.n ?? 0), withdrawn: Number(withdrawn?.n ?? 0) },
    complaints: null,
    appeals: null,
  };
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
  rows.push(['complaints', 'not recorded', '', ''], ['appeals', 'not recorded', '', '']);
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
