import type { Kysely } from 'kysely';
import {
  drawRowOpened,
  isSealedDataUnreadable,
  openDecision,
  type FieldCrypto,
} from '../compliance/index.js';
import type { CaseActionPage, CaseDecisionPort } from '../cases/index.js';
import type { Database } from './schema.js';
import { recentActions } from './core-lines.js';

/**
 * Reads that gather a case's evidence from the tables of the modules that did the work (decisions, draws, alerts,
 * events, line actions). Read-only; every read is bounded.
 */
type Q = Kysely<Database>;

/** A decision as the analyst's case shows it, its sealed context and trace opened with `crypto`. */
export function createCaseDecisionReads(db: Q, crypto: FieldCrypto): CaseDecisionPort {
  return { evidence: (decisionId) => decisionEvidence(db, decisionId, crypto) };
}

async function decisionEvidence(db: Q, decisionId: string, crypto: FieldCrypto) {
  const row = await db
    .selectFrom('decisions')
    .select([
      'id',
      'kind',
      'strategy_id',
      'strategy_version',
      'context',
      'outcome',
      'reasons',
      'trace',
      'decided_at',
    ])
    .where('id', '=', decisionId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    decisionId: row.id,
    kind: row.kind,
    strategy: { id: row.strategy_id, version: Number(row.strategy_version) },
    outcome: row.outcome,
    reasons: JSON.parse(row.reasons) as unknown,
    ...openedInputs(row, crypto),
    decidedAt: new Date(Number(row.decided_at)).toISOString(),
  };
}

/**
 * The inputs as they were when the decision was made (point in time): the features and facts the core recorded for
 * it (every credit fact it computed, including those the deciding version did not read: the trace shows which it
 * read), and its trace. A sealed one no held key opens leaves the case readable: both are shown as unreadable, and why.
 */
function openedInputs(
  row: { id: string; context: string; trace: string },
  crypto: FieldCrypto,
): { context: unknown; trace: unknown; unreadable?: string } {
  try {
    const opened = openDecision(crypto, row);
    return { context: JSON.parse(opened.context) as unknown, trace: JSON.parse(opened.trace) as unknown };
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { context: null, trace: null, unreadable: error.message };
  }
}

export async function applicationRow(db: Q, id: string) {
  return db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function drawRow(db: Q, id: string) {
  return db.selectFrom('draws').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * drawRow as a case shows it (its evidence): the device, IP and payee sealed in `origin` opened into their columns,
 * or the row marked `originUnreadable` when no held key opens them (compliance/sealed-draws.ts).
 */
export function openedDrawRow(crypto: FieldCrypto) {
  return async (db: Q, id: string) => {
    const row = await drawRow(db, id);
    return row && drawRowOpened(crypto, row);
  };
}

export async function lineActionRow(db: Q, id: string) {
  return db.selectFrom('line_actions').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * One page of the actions one decision took on a line, oldest first, after `page.after` (exclusive): a caller that
 * needs them all reads page after page (cases/decision-actions.ts); each read is bounded.
 */
export async function lineActionsOfDecision(db: Q, lineId: string, decisionId: string, page: CaseActionPage) {
  const { after, limit } = page;
  let query = db
    .selectFrom('line_actions')
    .selectAll()
    .where('line_id', '=', lineId)
    .where('trace_id', '=', decisionId);
  if (after)
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '>', after.createdAt),
        eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
      ]),
    );
  return query.orderBy('created_at').orderBy('id').limit(limit).execute();
}

export async function lineRow(db: Q, id: string) {
  return db.selectFrom('credit_lines').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function alertRow(db: Q, id: string) {
  return db.selectFrom('monitor_alerts').selectAll().where('alert_id', '=', id).executeTakeFirst();
}

export async function eventsByIds(db: Q, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('monitor_events')
    .select([
      'event_id',
      'type',
      'occurred_at',
      'user_id',
      'line_id',
      'device_id',
      'ip',
      'amount_minor',
      'payee_id',
    ])
    .where('event_id', 'in', ids.slice(0, 200))
    .orderBy('occurred_at')
    .execute();
}

/** The line's history, newest first, bounded (the core's own read of it). */
export function lineHistory(db: Q, lineId: string, limit = 50) {
  return recentActions(db, lineId, limit);
}

/** Other alerts on the same borrower (entity links the monitor recorded in their evidence come with them). */
export async function borrowerAlerts(db: Q, borrowerId: string, limit = 20) {
  return db
    .selectFrom('monitor_alerts')
    .select(['alert_id', 'typology_id', 'severity', 'status', 'created_at', 'evidence'])
    .where('user_id', '=', borrowerId)
    .orderBy('alert_id', 'desc')
    .limit(limit)
    .execute();
}

export async function distinctDevicesOf(db: Q, borrowerId: string, limit = 20): Promise<string[]> {
  const rows = await db
    .selectFrom('monitor_events')
    .select('device_id')
    .distinct()
    .where('user_id', '=', borrowerId)
    .where('device_id', 'is not', null)
    .limit(limit)
    .execute();
  return rows.map((r) => r.device_id).filter((d): d is string => d !== null);
}

/** Lines of one borrower (the borrower's own view). */
export async function linesOfBorrower(db: Q, borrowerId: string) {
  return db
    .selectFrom('credit_lines')
    .selectAll()
    .where('borrower_id', '=', borrowerId)
    .orderBy('id')
    .limit(100)
    .execute();
}

export async function decisionOwner(db: Q, decisionId: string) {
  return db
    .selectFrom('decisions')
    .select(['id', 'borrower_id', 'line_id', 'outcome', 'reasons', 'decided_at'])
    .where('id', '=', decisionId)
    .executeTakeFirst();
}
