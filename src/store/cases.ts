import type { Kysely } from 'kysely';
import type { CaseFilter } from '../cases/index.js';
import { LgError } from '../domain/index.js';
import type { Database } from './schema.js';
import type { StoreKind } from './db.js';
import type { SyncSql } from './sync.js';
import type { CasesTables } from './cases-tables.js';
/** The hook cases use to open a case per new alert, in the monitor's unit of work (src/store/monitor.ts). */
export type { AlertFollowUp, AlertRow } from './monitor.js';

/** SQL for src/cases: cases, notes, appeals, complaints, pending changes. Portable Kysely builders only. */
type Q = Kysely<Database>;
export type CaseRow = CasesTables['cases'];
export type CaseNoteRow = CasesTables['case_notes'];
export type AppealRow = CasesTables['appeals'];
export type ComplaintRow = CasesTables['complaints'];
export type PendingChangeRow = CasesTables['pending_changes'];

/** Opens cases; a case that already exists for the same (type, subject) is left as it is (intake is idempotent). */
export async function insertCases(db: Q, rows: readonly CaseRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db
    .insertInto('cases')
    .values([...rows])
    .onConflict((oc) => oc.columns(['type', 'subject_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** insertCases in a synchronous unit (embedded SQLite): the monitor writes its alerts' cases with its alerts. */
export function insertCasesSync(sql: SyncSql, rows: readonly CaseRow[]): void {
  for (const row of rows) {
    const keys = Object.keys(row);
    sql.run(
      `insert into "cases" (${keys.map((k) => `"${k}"`).join(', ')}) values (${keys.map(() => '?').join(', ')}) on conflict ("type", "subject_id") do nothing`,
      keys.map((k) => row[k as keyof CaseRow]),
    );
  }
}

export async function findCase(db: Q, kind: StoreKind, id: string, lock = false): Promise<CaseRow> {
  const query = db.selectFrom('cases').selectAll().where('id', '=', id);
  const row = await (lock && kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
  if (!row) throw new LgError('LG_NOT_FOUND', `no case ${id}`, { caseId: id });
  return row;
}

export async function findCaseBySubject(
  db: Q,
  type: string,
  subjectId: string,
): Promise<CaseRow | undefined> {
  return db
    .selectFrom('cases')
    .selectAll()
    .where('type', '=', type)
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
}

/** Compare-and-set on the case's state: a concurrent step on the same case fails instead of overwriting it. */
export async function updateCase(
  db: Q,
  id: string,
  fromState: string,
  patch: Partial<Omit<CaseRow, 'id'>>,
): Promise<void> {
  const updated = await db
    .updateTable('cases')
    .set(patch)
    .where('id', '=', id)
    .where('state', '=', fromState)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1)
    throw new LgError('LG_CONFLICT', 'the case changed meanwhile; read it again', { caseId: id });
}

export async function listCases(db: Q, f: CaseFilter): Promise<{ rows: CaseRow[]; next: string | null }> {
  let query = db.selectFrom('cases').selectAll();
  if (f.type) query = query.where('type', '=', f.type);
  if (f.state) query = query.where('state', '=', f.state);
  if (f.assignee) query = query.where('assignee', '=', f.assignee);
  if (f.lineId) query = query.where('line_id', '=', f.lineId);
  if (f.borrowerId) query = query.where('borrower_id', '=', f.borrowerId);
  if (f.dueBefore !== undefined) query = query.where('sla_due_at', '<', f.dueBefore);
  if (f.before) query = query.where('id', '<', f.before);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  const page = rows.slice(0, f.limit);
  return { rows: page, next: rows.length > f.limit ? (page[page.length - 1]?.id ?? null) : null };
}

export async function openCasesPastDue(db: Q, now: number, limit: number): Promise<CaseRow[]> {
  return db
    .selectFrom('cases')
    .selectAll()
    .where('state', 'in', ['OPEN', 'ASSIGNED', 'PENDING_CUSTOMER'])
    .where('sla_due_at', '<', now)
    .where('sla_breached', '=', 0)
    .orderBy('sla_due_at')
    .limit(limit)
    .execute();
}

export async function insertNote(db: Q, row: CaseNoteRow): Promise<void> {
  await db.insertInto('case_notes').values(row).execute();
}

export async function notesOf(db: Q, caseId: string): Promise<CaseNoteRow[]> {
  return db
    .selectFrom('case_notes')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('id')
    .limit(500)
    .execute();
}

/** Cases of a type (resolved or not) for the stats report, bounded by their creation time. */
export async function casesForStats(db: Q, from: number, to: number, rowsMax: number): Promise<CaseRow[]> {
  return db
    .selectFrom('cases')
    .selectAll()
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .orderBy('id')
    .limit(rowsMax)
    .execute();
}

export async function insertAppeal(db: Q, row: AppealRow): Promise<void> {
  await db.insertInto('appeals').values(row).execute();
}

export async function findAppeal(db: Q, id: string): Promise<AppealRow | undefined> {
  return db.selectFrom('appeals').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function appealsOf(db: Q, borrowerId: string, limit: number): Promise<AppealRow[]> {
  return db
    .selectFrom('appeals')
    .selectAll()
    .where('borrower_id', '=', borrowerId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function openAppealsOnLine(db: Q, lineId: string): Promise<AppealRow[]> {
  return db
    .selectFrom('appeals')
    .selectAll()
    .where('line_id', '=', lineId)
    .where('state', '=', 'OPEN')
    .orderBy('id')
    .execute();
}

export async function updateAppeal(db: Q, id: string, patch: Partial<Omit<AppealRow, 'id'>>): Promise<void> {
  const updated = await db
    .updateTable('appeals')
    .set(patch)
    .where('id', '=', id)
    .where('state', '=', 'OPEN')
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1)
    throw new LgError('LG_CONFLICT', 'the appeal was decided meanwhile', { appealId: id });
}

export async function insertComplaint(db: Q, row: ComplaintRow): Promise<void> {
  await db.insertInto('complaints').values(row).execute();
}

export async function findComplaint(db: Q, id: string): Promise<ComplaintRow | undefined> {
  return db.selectFrom('complaints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function complaintsOf(db: Q, borrowerId: string, limit: number): Promise<ComplaintRow[]> {
  return db
    .selectFrom('complaints')
    .selectAll()
    .where('borrower_id', '=', borrowerId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function updateComplaint(
  db: Q,
  id: string,
  expect: { state: string; extended?: 'no' },
  patch: Partial<Omit<ComplaintRow, 'id'>>,
): Promise<void> {
  let query = db.updateTable('complaints').set(patch).where('id', '=', id).where('state', '=', expect.state);
  if (expect.extended === 'no') query = query.where('extended_at', 'is', null);
  const updated = await query.executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1)
    throw new LgError('LG_CONFLICT', 'the complaint changed meanwhile', { complaintId: id });
}

export async function insertPendingChange(db: Q, row: PendingChangeRow): Promise<void> {
  await db.insertInto('pending_changes').values(row).execute();
}

export async function findPendingChange(
  db: Q,
  kind: StoreKind,
  id: string,
  lock = false,
): Promise<PendingChangeRow> {
  const query = db.selectFrom('pending_changes').selectAll().where('id', '=', id);
  const row = await (lock && kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
  if (!row) throw new LgError('LG_NOT_FOUND', `no pending change ${id}`, { changeId: id });
  return row;
}

export async function listPendingChanges(
  db: Q,
  f: { state?: string; limit: number; before?: string },
): Promise<{ rows: PendingChangeRow[]; next: string | null }> {
  let query = db.selectFrom('pending_changes').selectAll();
  if (f.state) query = query.where('state', '=', f.state);
  if (f.before) query = query.where('id', '<', f.before);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  const page = rows.slice(0, f.limit);
  return { rows: page, next: rows.length > f.limit ? (page[page.length - 1]?.id ?? null) : null };
}

export async function settlePendingChange(
  db: Q,
  id: string,
  patch: Partial<Omit<PendingChangeRow, 'id'>>,
): Promise<void> {
  const updated = await db
    .updateTable('pending_changes')
    .set(patch)
    .where('id', '=', id)
    .where('state', '=', 'PENDING')
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1)
    throw new LgError('LG_CHANGE_NOT_PENDING', 'the change is no longer pending', { changeId: id });
}

/**
 * Who holds and who issued each of these keys, and the key each was made with (four eyes reads them in the decision's
 * dbTx).
 */
export async function keyIssuers(
  db: Q,
  keyIds: readonly string[],
): Promise<
  { id: string; user_id: string | null; issued_by: string | null; issued_with_key_id: string | null }[]
> {
  if (keyIds.length === 0) return [];
  return db
    .selectFrom('api_keys')
    .select(['id', 'user_id', 'issued_by', 'issued_with_key_id'])
    .where('id', 'in', [...keyIds])
    .execute();
}

export async function userById(
  db: Q,
  id: string,
): Promise<{ id: string; name: string; role: string } | undefined> {
  return db.selectFrom('users').select(['id', 'name', 'role']).where('id', '=', id).executeTakeFirst();
}

/** Ledger entries about one subject, oldest first (the case's history). */
export async function ledgerOf(db: Q, subjectId: string, limit = 200) {
  return db
    .selectFrom('ledger_entries')
    .select(['seq', 'kind', 'payload', 'recorded_at'])
    .where('subject_id', '=', subjectId)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/**
 * The borrower's appeals, open or decided, against any of `targetIds` (an action and the decision behind it, or a
 * decision and its actions), oldest first. Read under the borrower's lock by a filing: one appeal per action.
 */
export async function appealsCovering(
  db: Q,
  borrowerId: string,
  targetIds: readonly string[],
): Promise<AppealRow[]> {
  if (targetIds.length === 0) return [];
  return db
    .selectFrom('appeals')
    .selectAll()
    .where('borrower_id', '=', borrowerId)
    .where('target_id', 'in', [...targetIds])
    .orderBy('id')
    .execute();
}

/** Records what an approved change returned (or why applying it failed, with state FAILED). */
export async function setPendingChangeResult(
  db: Q,
  id: string,
  patch: { result: string; state?: 'FAILED' },
): Promise<void> {
  await db.updateTable('pending_changes').set(patch).where('id', '=', id).execute();
}

/** Ids of pending changes past their expiry, at most `limit`. */
export async function pendingChangesDue(db: Q, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('pending_changes')
    .select('id')
    .where('state', '=', 'PENDING')
    .where('expires_at', '<=', now)
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** State and outcome of a borrower's alert cases (at most `limit`), for the reinstatement rule. */
export async function alertCaseOutcomes(
  db: Q,
  borrowerId: string,
  limit: number,
): Promise<{ state: string; outcome: string | null }[]> {
  return db
    .selectFrom('cases')
    .select(['state', 'outcome'])
    .where('type', '=', 'ALERT')
    .where('borrower_id', '=', borrowerId)
    .limit(limit)
    .execute();
}

/** ESCALATED cases past their SLA not yet marked breached. */
export async function escalatedPastDue(db: Q, now: number, limit: number): Promise<CaseRow[]> {
  return db
    .selectFrom('cases')
    .selectAll()
    .where('state', '=', 'ESCALATED')
    .where('sla_due_at', '<', now)
    .where('sla_breached', '=', 0)
    .limit(limit)
    .execute();
}
