/**
 * The reads behind case intake (src/cases/intake.ts): what committed work waits for a person, found in the tables
 * of the modules that did it. Each read is bounded; `id` narrows it to one subject (intake right after a request).
 */
import type { Kysely } from 'kysely';
import type { CaseIntakePort, IntakeItem } from '../cases/index.js';
import type { Database } from './schema.js';
import { alertCaseOutcomes } from './cases.js';

type Q = Kysely<Database>;

/** Rows found per read at most; the next sweep picks up the rest. */
const INTAKE_ROWS_MAX = 5_000;

/** Applications decided REVIEW that opened no line. */
async function reviewApplicationsSince(db: Q, since: number, id?: string): Promise<IntakeItem[]> {
  let q = db
    .selectFrom('applications')
    .select(['id', 'borrower_id', 'created_at'])
    .where('outcome', '=', 'REVIEW')
    .where('line_id', 'is', null);
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
    );
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
    .where('line_actions.outcome', '=', 'REVIEW');
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
    .limit(INTAKE_ROWS_MAX)
    .execute();
}

/** The intake port on the store's connection (never inside a unit of work: intake only reads what committed). */
export function createCaseIntakeReads(db: Q): CaseIntakePort {
  return {
    reviewApplications: (since, id) => reviewApplicationsSince(db, since, id),
    heldDraws: (window, id) => heldDrawsSince(db, window, id),
    guardHeldActions: (since, id) => guardHeldActionsSince(db, since, id),
    openAlerts: (since) => openAlertsSince(db, since),
    alertCaseOutcomes: (borrowerId, limit) => alertCaseOutcomes(db, borrowerId, limit),
  };
}
