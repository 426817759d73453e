import { LgError } from '../domain/index.js';
import type { CoreStore, ListScope } from './ports.js';

/** What a listing reads. */
export type ListingStore = Pick<CoreStore, 'listPage' | 'exists'>;

/**
 * Listings a client recovers with after a crash or a lost answer (issue 13): the draws and loans of a line, the lines
 * of a borrower; in creation order, a page at a time, optionally between two instants. A page's `next` cursor names
 * the last item (its creation instant and id), so pages never skip or repeat a row, whatever is written meanwhile.
 */
export interface PageQuery {
  /** Rows per page (1..500, default 100). */
  readonly limit?: number;
  /** The `next` of the previous page. */
  readonly after?: string;
  /** epoch ms, inclusive */
  readonly from?: number;
  /** epoch ms, exclusive */
  readonly to?: number;
}

export interface Page<T> {
  readonly items: T[];
  /** Pass as `after` for the following page; null on the last page. */
  readonly next: string | null;
}

export interface DrawListItem {
  readonly id: string;
  readonly status: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly termMonths: number;
  readonly method: string;
  readonly decisionId: string;
  readonly loanId: string | null;
  readonly reasons: string[];
  readonly createdAt: string;
}

export interface LoanListItem {
  readonly id: string;
  readonly drawId: string;
  readonly status: string;
  readonly currency: string;
  readonly principalMinor: number;
  readonly outstandingPrincipalMinor: number;
  readonly termMonths: number;
  readonly method: string;
  readonly createdAt: string;
  readonly settledAt: string | null;
}

export interface LineListItem {
  readonly id: string;
  readonly status: string;
  readonly currency: string;
  readonly limitMinor: number;
  readonly availableMinor: number;
  readonly outstandingMinor: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const PAGE_LIMIT_MAX = 500;
const PAGE_LIMIT_DEFAULT = 100;

interface Cursor {
  readonly t: number;
  readonly id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.t}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  const [t, id, extra] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const at = Number(t);
  if (extra !== undefined || !id || !Number.isSafeInteger(at) || at < 0)
    throw new LgError('LG_VALIDATION', 'after is not a cursor this API returned');
  return { t: at, id };
}

/** One page of `scope`'s rows, ordered by (created_at, id). */
async function page<R extends { id: string; created_at: number }>(
  store: ListingStore,
  scope: ListScope,
  query: PageQuery,
): Promise<{ rows: R[]; next: string | null }> {
  const limit = Math.min(Math.max(1, query.limit ?? PAGE_LIMIT_DEFAULT), PAGE_LIMIT_MAX);
  const after = query.after === undefined ? undefined : decodeCursor(query.after);
  const rows = (await store.listPage(scope, {
    ...(query.from === undefined ? {} : { from: query.from }),
    ...(query.to === undefined ? {} : { to: query.to }),
    ...(after ? { after } : {}),
    limit: limit + 1,
  })) as R[];
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return {
    rows: items,
    next: more && last ? encodeCursor({ t: Number(last.created_at), id: last.id }) : null,
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

async function requireRow(
  store: ListingStore,
  table: 'credit_lines' | 'borrowers',
  id: string,
): Promise<void> {
  if (!(await store.exists(table, id)))
    throw new LgError('LG_NOT_FOUND', `no ${table === 'borrowers' ? 'borrower' : 'line'} ${id}`);
}

export async function listLineDraws(
  store: ListingStore,
  lineId: string,
  query: PageQuery,
): Promise<Page<DrawListItem>> {
  await requireRow(store, 'credit_lines', lineId);
  type Row = { id: string; created_at: number } & Record<string, unknown>;
  const { rows, next } = await page<Row>(store, { table: 'draws', column: 'line_id', value: lineId }, query);
  return {
    items: rows.map((r) => ({
      id: r.id,
      status: String(r.status),
      amountMinor: Number(r.amount_minor),
      currency: String(r.currency),
      termMonths: Number(r.term_months),
      method: String(r.method),
      decisionId: String(r.decision_id),
      loanId: (r.loan_id as string | null) ?? null,
      reasons: JSON.parse(String(r.reasons)) as string[],
      createdAt: iso(r.created_at) as string,
    })),
    next,
  };
}

export async function listLineLoans(
  store: ListingStore,
  lineId: string,
  query: PageQuery,
): Promise<Page<LoanListItem>> {
  await requireRow(store, 'credit_lines', lineId);
  type Row = { id: string; created_at: number } & Record<string, unknown>;
  const { rows, next } = await page<Row>(store, { table: 'loans', column: 'line_id', value: lineId }, query);
  return {
    items: rows.map((r) => ({
      id: r.id,
      drawId: String(r.draw_id),
      status: String(r.status),
      currency: String(r.currency),
      principalMinor: Number(r.principal_minor),
      outstandingPrincipalMinor: Number(r.outstanding_principal_minor),
      termMonths: Number(r.term_months),
      method: String(r.method),
      createdAt: iso(r.created_at) as string,
      settledAt: iso(r.settled_at as number | null),
    })),
    next,
  };
}

export async function listBorrowerLines(
  store: ListingStore,
  borrowerId: string,
  query: PageQuery,
): Promise<Page<LineListItem>> {
  await requireRow(store, 'borrowers', borrowerId);
  type Row = { id: string; created_at: number } & Record<string, unknown>;
  const { rows, next } = await page<Row>(
    store,
    { table: 'credit_lines', column: 'borrower_id', value: borrowerId },
    query,
  );
  return {
    items: rows.map((r) => ({
      id: r.id,
      status: String(r.status),
      currency: String(r.currency),
      limitMinor: Number(r.limit_minor),
      availableMinor: Number(r.available_minor),
      outstandingMinor: Number(r.outstanding_minor),
      createdAt: iso(r.created_at) as string,
      updatedAt: iso(r.updated_at as number) as string,
    })),
    next,
  };
}
