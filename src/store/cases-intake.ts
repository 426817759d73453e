/**
 * The reads behind case intake (src/cases/intake.ts): what committed work waits for a person and has no case yet,
 * found in the tables of the modules that did it. Each read is bounded. By created_at (one writer, SQLite; and the
 * first sweep after a start); `id` narrows it to one subject (intake right after a request). On PostgreSQL, which
 * several processes write, in commit order (committedIntakeReads).
 */
import { CompiledQuery, sql, type Kysely, type RawBuilder } from 'kysely';
import type { CommitPageCursor } from '../domain/index.js';
import type {
  CaseAlertRecord,
  CaseIntakePort,
  CaseType,
  CommittedIntakePort,
  IntakeItem,
  IntakePage,
} from '../cases/index.js';
import type { Database } from './schema.js';
import type { Store } from './store-types.js';
import { alertCaseOutcomes } from './cases.js';
import {
  commitOrderPageSql,
  commitPageParams,
  pageHead,
  currentSnapshot,
  type CommitPageRow,
} from './commit-order.js';

type Q = Kysely<Database>;

/** Rows found per read by time at most. */
const INTAKE_ROWS_MAX = 5_000;

/** The case each kind of subject opens (src/cases/intake.ts): a subject that has one is no longer looked for. */
const CASE_OF = {
  application: 'REVIEW_APPLICATION',
  draw: 'HELD_DRAW',
  lineAction: 'GUARD_HELD_ACTION',
  alert: 'ALERT',
} as const satisfies Record<string, CaseType>;

/**
 * The subject in `idColumn` has no case of `type` yet (the unique key (type, subject_id) answers it): a sweep neither
 * re-reads nor re-inserts the cases the immediate hook already opened.
 */
function withoutCase(type: CaseType, idColumn: string): RawBuilder<boolean> {
  return sql<boolean>`not exists (select 1 from cases where cases.type = ${type} and cases.subject_id = ${sql.ref(idColumn)})`;
}

/** Applications decided REVIEW that opened no line. */
async function reviewApplicationsSince(db: Q, since: number, id?: string): Promise<IntakeItem[]> {
  let q = db
    .selectFrom('applications')
    .select(['id', 'borrower_id', 'created_at'])
    .where('outcome', '=', 'REVIEW')
    .where('line_id', 'is', null)
    .where(withoutCase(CASE_OF.application, 'applications.id'));
  q = id ? q.where('id', '=', id) : q.where('created_at', '>=', since);
  const rows = await q.limit(INTAKE_ROWS_MAX).execute();
  return rows.map((r) => ({
    id: r.id,
    lineId: null,
    borrowerId: r.borrower_id,
    createdAt: Number(r.created_at),
  }));
}

/** Draws held (HOLD, REVIEW) or CHALLENGE draws with no step-up result inside `windowMs`. */
async function heldDrawsSince(
  db: Q,
  window: { since: number; now: number; windowMs: number },
  id?: string,
): Promise<IntakeItem[]> {
  const { since, now, windowMs } = window;
  let q = db
    .selectFrom('draws')
    .select(['id', 'line_id', 'borrower_id', 'status', 'created_at'])
    .where((eb) =>
      eb.or([
        eb('status', 'in', ['HOLD', 'REVIEW']),
        eb.and([eb('status', '=', 'CHALLENGE'), eb('created_at', '<=', now - windowMs)]),
      ]),
    )
    .where(withoutCase(CASE_OF.draw, 'draws.id'));
  q = id ? q.where('id', '=', id) : q.where('created_at', '>=', since - windowMs);
  const rows = await q.limit(INTAKE_ROWS_MAX).execute();
  return rows.map((r) => ({
    id: r.id,
    lineId: r.line_id,
    borrowerId: r.borrower_id,
    createdAt: Number(r.created_at),
  }));
}

/** Line actions the blast-radius guard turned into REVIEW. */
async function guardHeldActionsSince(db: Q, since: number, id?: string): Promise<IntakeItem[]> {
  let q = db
    .selectFrom('line_actions')
    .innerJoin('credit_lines', 'credit_lines.id', 'line_actions.line_id')
    .select([
      'line_actions.id as id',
      'line_actions.line_id as line_id',
      'credit_lines.borrower_id as borrower_id',
    ])
    .select('line_actions.created_at as created_at')
    .where('line_actions.outcome', '=', 'REVIEW')
    .where(withoutCase(CASE_OF.lineAction, 'line_actions.id'));
  q = id ? q.where('line_actions.id', '=', id) : q.where('line_actions.created_at', '>=', since);
  const rows = await q.limit(INTAKE_ROWS_MAX).execute();
  return rows.map((r) => ({
    id: r.id,
    lineId: r.line_id,
    borrowerId: r.borrower_id,
    createdAt: Number(r.created_at),
  }));
}

/** Open monitor alerts created since `since`. */
async function openAlertsSince(db: Q, since: number) {
  return db
    .selectFrom('monitor_alerts')
    .selectAll()
    .where('status', '=', 'OPEN')
    .where('created_at', '>=', since)
    .where(withoutCase(CASE_OF.alert, 'monitor_alerts.alert_id'))
    .limit(INTAKE_ROWS_MAX)
    .execute();
}

// ---- PostgreSQL (several writers): what committed, in commit order ----

/** A source table as the sweep follows it: its rows aliased "t", the subjects among them, what a page returns. */
interface FollowedTable {
  readonly from: string;
  /** The subject's id column in "t" (the page's order within one transaction). */
  readonly id: string;
  /** Which rows are work for a person: literals, the predicate of the table's partial index (migration 139). */
  readonly where: string;
  readonly columns: string;
  readonly caseType: CaseType;
}

/**
 * One page of a table's subjects with no case whose unit committed after a follower's place (changed_xid: migration
 * 139; monitor_alerts 406), in commit order (commitOrderPageSql), one round trip, as the events' feed page
 * (src/store/monitor.ts). Rows stored before the migration have no changed_xid and are never read here (the first
 * sweep after a start reads them by time).
 */
function followPageSql(t: FollowedTable): string {
  return commitOrderPageSql({
    from: t.from,
    xid: '"t"."changed_xid"',
    id: `"t"."${t.id}"`,
    columns: t.columns,
    where: `${t.where}
      and not exists (select 1 from "cases" as "c" where "c"."type" = '${t.caseType}' and "c"."subject_id" = "t"."${t.id}")`,
  });
}

const ITEM_COLUMNS = '"t"."line_id", "t"."borrower_id", "t"."created_at"';

const REVIEW_APPLICATIONS_PAGE_SQL = followPageSql({
  from: '"applications" as "t"',
  id: 'id',
  where: `"t"."outcome" = 'REVIEW' and "t"."line_id" is null`,
  columns: ITEM_COLUMNS,
  caseType: CASE_OF.application,
});

/** $6: a CHALLENGE draw created at or before it has had its window (challengedBy). */
const HELD_DRAWS_PAGE_SQL = followPageSql({
  from: '"draws" as "t"',
  id: 'id',
  where: `"t"."status" in ('HOLD', 'REVIEW', 'CHALLENGE') and ("t"."status" <> 'CHALLENGE' or "t"."created_at" <= $6)`,
  columns: ITEM_COLUMNS,
  caseType: CASE_OF.draw,
});

const GUARD_HELD_ACTIONS_PAGE_SQL = followPageSql({
  from: '"line_actions" as "t" join "credit_lines" as "l" on "l"."id" = "t"."line_id"',
  id: 'id',
  where: `"t"."outcome" = 'REVIEW'`,
  columns: '"t"."line_id", "l"."borrower_id", "t"."created_at"',
  caseType: CASE_OF.lineAction,
});

const OPEN_ALERTS_PAGE_SQL = followPageSql({
  from: '"monitor_alerts" as "t"',
  id: 'alert_id',
  where: `"t"."status" = 'OPEN'`,
  columns: `"t"."alert_id", "t"."typology_id", "t"."severity", "t"."status", "t"."user_id", "t"."line_id",
    "t"."created_at", "t"."evidence", "t"."reasons"`,
  caseType: CASE_OF.alert,
});

/** A page's subject row: the columns a table's page selects, with its place in the commit order. */
type SubjectRow<R> = R & { readonly xid: string; readonly id: string };

async function followPage<R extends CommitPageRow, T>(
  db: Q,
  page: { sql: string; params: readonly unknown[]; from: CommitPageCursor; limit: number },
  toItem: (row: SubjectRow<R>) => T,
): Promise<IntakePage<T>> {
  const result = await db.executeQuery<R>(
    CompiledQuery.raw(page.sql, [...commitPageParams(page.from, page.limit), ...page.params]),
  );
  const items: T[] = [];
  let last: IntakePage<T>['last'];
  for (const row of result.rows) {
    const { xid, id } = row;
    if (xid === null || id === null) continue;
    items.push(toItem({ ...row, xid, id }));
    last = { xid, id };
  }
  const head = pageHead(result.rows, 'case intake');
  return { snapshot: head.snapshot, items, last };
}

type ItemRow = CommitPageRow & { line_id: string | null; borrower_id: string | null; created_at: number };

const itemOf = (r: SubjectRow<ItemRow>): IntakeItem => ({
  id: r.id,
  lineId: r.line_id,
  borrowerId: r.borrower_id,
  createdAt: Number(r.created_at),
});

const alertOf = (r: CommitPageRow & CaseAlertRecord): CaseAlertRecord => ({
  alert_id: r.alert_id,
  typology_id: r.typology_id,
  severity: r.severity,
  status: r.status,
  user_id: r.user_id,
  line_id: r.line_id,
  created_at: Number(r.created_at),
  evidence: r.evidence,
  reasons: r.reasons,
});

/** CHALLENGE draws with no case whose window ended in the sweep's span (index draws_challenge_created, 139). */
async function timedOutChallenges(
  db: Q,
  window: { since: number; now: number; windowMs: number },
): Promise<IntakeItem[]> {
  const rows = await db
    .selectFrom('draws')
    .select(['id', 'line_id', 'borrower_id', 'created_at'])
    .where('status', '=', sql.lit('CHALLENGE'))
    .where('created_at', '>=', window.since - window.windowMs)
    .where('created_at', '<=', window.now - window.windowMs)
    .where(withoutCase(CASE_OF.draw, 'draws.id'))
    .limit(INTAKE_ROWS_MAX)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    lineId: r.line_id,
    borrowerId: r.borrower_id,
    createdAt: Number(r.created_at),
  }));
}

function committedIntakeReads(store: Store): CommittedIntakePort {
  const db = store.db;
  return {
    followFrom: () => currentSnapshot(store),
    reviewApplications: (from, limit) =>
      followPage(db, { sql: REVIEW_APPLICATIONS_PAGE_SQL, params: [], from, limit }, itemOf),
    heldDraws: (from, read) =>
      followPage(
        db,
        { sql: HELD_DRAWS_PAGE_SQL, params: [read.challengedBy], from, limit: read.limit },
        itemOf,
      ),
    guardHeldActions: (from, limit) =>
      followPage(db, { sql: GUARD_HELD_ACTIONS_PAGE_SQL, params: [], from, limit }, itemOf),
    openAlerts: (from, limit) =>
      followPage(db, { sql: OPEN_ALERTS_PAGE_SQL, params: [], from, limit }, alertOf),
    timedOutChallenges: (window) => timedOutChallenges(db, window),
  };
}

/**
 * The intake port on the store's connection (never inside a unit of work: intake only reads what committed). On
 * PostgreSQL, which several processes write, the sweep follows what committed (committedIntakeReads).
 */
export function createCaseIntakeReads(store: Store): CaseIntakePort {
  const db = store.db;
  return {
    ...(store.kind === 'postgres' ? { committed: committedIntakeReads(store) } : {}),
    reviewApplications: (since, id) => reviewApplicationsSince(db, since, id),
    heldDraws: (window, id) => heldDrawsSince(db, window, id),
    guardHeldActions: (since, id) => guardHeldActionsSince(db, since, id),
    openAlerts: (since) => openAlertsSince(db, since),
    alertCaseOutcomes: (borrowerId, limit) => alertCaseOutcomes(db, borrowerId, limit),
  };
}
