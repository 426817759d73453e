import type { Selectable, SelectQueryBuilder } from 'kysely';
import type { CoreTables } from './core-tables.js';
import type { ListBounds, ListScope, NewestFirstPage } from '../core/index.js';
import type { Database } from './schema.js';
import type { Db } from './store-types.js';

/**
 * The core's plain reads (core/ports.ts CoreStore): portable Kysely, the same SQL on SQLite and PostgreSQL. Reads that
 * decide a write run inside that write's unit instead (core-draws.ts).
 */
type LineRow = CoreTables['credit_lines'];
type ActionRow = Selectable<CoreTables['line_actions']>;
type InstallmentRow = CoreTables['loan_installments'];

/** A page of SUSPENDED or DRAW_FROZEN lines after `afterId`, by id. */
export function restrictedLinesPage(db: Db, afterId: string, pageSize: number): Promise<LineRow[]> {
  return db
    .selectFrom('credit_lines')
    .selectAll()
    .where('status', 'in', ['SUSPENDED', 'DRAW_FROZEN'])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(pageSize)
    .execute();
}

/** The restriction each restricted status is set by. */
const RESTRICTION_OF_STATUS: Readonly<Record<string, string>> = {
  DRAW_FROZEN: 'FREEZE_DRAW',
  SUSPENDED: 'SUSPEND',
};

/**
 * The restriction in force: the latest applied restriction that moved the line into the status it has now (FREEZE_DRAW
 * for DRAW_FROZEN, SUSPEND for SUSPENDED). A lift that returned a line to a restriction beneath (REINSTATE of a
 * suspension taken on a frozen line) also moved it into DRAW_FROZEN, but it restricts nothing: the freeze does.
 */
export function restrictionOf(
  db: Db,
  line: { readonly id: string; readonly status: string },
): Promise<ActionRow | undefined> {
  const type = RESTRICTION_OF_STATUS[line.status];
  if (type === undefined) return Promise.resolve(undefined);
  return db
    .selectFrom('line_actions')
    .selectAll()
    .where('line_id', '=', line.id)
    .where('outcome', '=', 'APPLIED')
    .where('type', '=', type)
    .where('new_status', '=', line.status)
    .where('prev_status', '!=', line.status)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The actions that restrict a line or lift a restriction. */
const RESTRICTION_MOVES = ['FREEZE_DRAW', 'SUSPEND', 'UNFREEZE', 'REINSTATE'] as const;

/** The latest applied restriction or lift on the line (FREEZE_DRAW, SUSPEND, UNFREEZE, REINSTATE). */
export function latestRestrictionMove(db: Db, lineId: string): Promise<ActionRow | undefined> {
  return db
    .selectFrom('line_actions')
    .selectAll()
    .where('line_id', '=', lineId)
    .where('outcome', '=', 'APPLIED')
    .where('type', 'in', [...RESTRICTION_MOVES])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The types of action that set a line's limit. */
const LIMIT_ACTIONS = ['GRANT', 'LIMIT_INCREASE', 'LIMIT_DECREASE', 'TEMP_LIMIT'] as const;

/** Line actions newest first (created_at, then id), before the page's cursor (exclusive), at most `page.limit`. */
function newestFirst(
  query: SelectQueryBuilder<Database, 'line_actions', ActionRow>,
  page: NewestFirstPage,
): Promise<ActionRow[]> {
  const { before } = page;
  const bounded = before
    ? query.where((eb) =>
        eb.or([
          eb('created_at', '<', before.createdAt),
          eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
        ]),
      )
    : query;
  return bounded.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

/** A page of the applied actions that set the line's limit (grants, raises, cuts, temporary limits), newest first. */
export function limitChanges(db: Db, lineId: string, page: NewestFirstPage): Promise<ActionRow[]> {
  return newestFirst(
    db
      .selectFrom('line_actions')
      .selectAll()
      .where('line_id', '=', lineId)
      .where('outcome', '=', 'APPLIED')
      .where('type', 'in', [...LIMIT_ACTIONS]),
    page,
  );
}

/**
 * A page of the applied limit cuts on the line that are `targetId` or were taken on decision `targetId`, newest first.
 */
export function limitCutsOf(
  db: Db,
  lineId: string,
  targetId: string,
  page: NewestFirstPage,
): Promise<ActionRow[]> {
  return newestFirst(
    db
      .selectFrom('line_actions')
      .selectAll()
      .where('line_id', '=', lineId)
      .where('outcome', '=', 'APPLIED')
      .where('type', '=', 'LIMIT_DECREASE')
      .where((w) => w.or([w('id', '=', targetId), w('trace_id', '=', targetId)])),
    page,
  );
}

/** The unsettled instalments of every loan on a line (due before `dueBefore` when given). */
export function unsettledInstalmentsOfLine(
  db: Db,
  lineId: string,
  dueBefore?: string,
): Promise<InstallmentRow[]> {
  let query = db
    .selectFrom('loan_installments')
    .innerJoin('loans', 'loans.id', 'loan_installments.loan_id')
    .selectAll('loan_installments')
    .where('loans.line_id', '=', lineId)
    .where('loan_installments.settled_at', 'is', null);
  if (dueBefore !== undefined) query = query.where('loan_installments.due_date', '<', dueBefore);
  return query.execute();
}

export async function hasAnyBorrower(db: Db): Promise<boolean> {
  return (await db.selectFrom('borrowers').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Rows of one of the listed tables where `column` = `value`, in (created_at, id) order after a keyset cursor. */
export async function listPage(
  db: Db,
  scope: ListScope,
  bounds: ListBounds,
): Promise<({ id: string; created_at: number } & Record<string, unknown>)[]> {
  // Kysely cannot type a table chosen at run time; the three tables share the columns used here.
  let q = db
    .selectFrom(scope.table as 'draws')
    .selectAll()
    .where(scope.column as 'line_id', '=', scope.value);
  if (bounds.from !== undefined) q = q.where('created_at', '>=', bounds.from);
  if (bounds.to !== undefined) q = q.where('created_at', '<', bounds.to);
  const after = bounds.after;
  if (after)
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '>', after.t),
        eb.and([eb('created_at', '=', after.t), eb('id', '>', after.id)]),
      ]),
    );
  return (await q.orderBy('created_at').orderBy('id').limit(bounds.limit).execute()) as unknown as ({
    id: string;
    created_at: number;
  } & Record<string, unknown>)[];
}

export async function rowExists(db: Db, table: 'credit_lines' | 'borrowers', id: string): Promise<boolean> {
  const row = await db
    .selectFrom(table as 'credit_lines')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst();
  return row !== undefined;
}
