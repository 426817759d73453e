import { appendToLedger, appendToLedgerSync, type LedgerAppend } from '../compliance/index.js';
import type { CaseRow } from './records.js';
import type { CaseAlertRecord } from './records.js';
import type {
  CaseAlertFollowUp,
  CaseDeps,
  CaseIntakePort,
  CaseRowsPort,
  CaseTx,
  IntakeItem,
} from './ports.js';
import { newCaseRow, type NewCase } from './rows.js';

/**
 * Intake: every piece of work the machine leaves for a person becomes a case. Alerts open their case in the monitor's
 * own unit of work (alertFollowUp). REVIEW applications, held draws, timed-out challenges and guard-held actions are
 * found by a sweep over what committed (so nothing is lost if a process stops between a commit and a notification),
 * and opened at once after the request that produced them (intakeSubject). The (type, subject) key makes both paths
 * idempotent.
 */
export function caseOpenedLedger(row: CaseRow): LedgerAppend {
  return {
    entryId: `${row.id}:opened`,
    kind: 'case.opened',
    subjectId: row.id,
    recordedAt: row.created_at,
    payload: {
      caseId: row.id,
      type: row.type,
      subjectId: row.subject_id,
      lineId: row.line_id,
      priority: row.priority,
      slaDueAt: row.sla_due_at,
    },
  };
}

/** Opens one case in the caller's dbTx with its ledger entry (a dispute opens its case with its record). */
export async function openCaseInTx(rows: CaseRowsPort, tx: CaseTx, row: CaseRow): Promise<void> {
  await rows.insertCases(tx, [row]);
  await appendToLedger(tx, [caseOpenedLedger(row)]);
}

/** New cases for alerts; exported for the sweep and the monitor hook. */
export function alertCase(alert: CaseAlertRecord): NewCase {
  let rules: string[] = [];
  try {
    const evidence = JSON.parse(alert.evidence) as { rules?: unknown };
    if (Array.isArray(evidence.rules))
      rules = evidence.rules.filter((r): r is string => typeof r === 'string');
  } catch {
    rules = [];
  }
  return {
    type: 'ALERT',
    subjectId: alert.alert_id,
    lineId: alert.line_id,
    borrowerId: alert.user_id === 'system' ? null : alert.user_id,
    typologyId: alert.typology_id,
    ruleIds: rules,
    severity: alert.severity,
    since: Number(alert.created_at),
  };
}

/** The monitor's hook: one case per new alert, in the unit of work that writes the alerts. */
export function alertFollowUp(deps: CaseDeps): CaseAlertFollowUp {
  const rowsFor = (alerts: readonly CaseAlertRecord[]) =>
    alerts.map((a) => newCaseRow(deps.ids.next(), alertCase(a), deps.config.sla, deps.clock.now()));
  return {
    async inTx(tx, alerts) {
      const rows = rowsFor(alerts);
      await deps.rows.insertCases(tx, rows);
      await appendToLedger(tx, rows.map(caseOpenedLedger));
    },
    inSync(syncSql, alerts) {
      const rows = rowsFor(alerts);
      deps.rows.insertCasesSync(syncSql, rows);
      appendToLedgerSync(syncSql, rows.map(caseOpenedLedger));
    },
  };
}

interface Found {
  readonly cases: NewCase[];
}

async function reviewApplications(reads: CaseIntakePort, since: number, id?: string): Promise<NewCase[]> {
  const items = await reads.reviewApplications(since, id);
  return items.map((r) => ({
    type: 'REVIEW_APPLICATION' as const,
    subjectId: r.id,
    borrowerId: r.borrowerId,
    since: r.createdAt,
  }));
}

async function heldDraws(
  reads: CaseIntakePort,
  since: number,
  now: number,
  windowMs: number,
  id?: string,
): Promise<NewCase[]> {
  // A CHALLENGE with no step-up result inside its window is held for a person.
  const items = await reads.heldDraws({ since, now, windowMs }, id);
  return items.map((r) => ({ type: 'HELD_DRAW' as const, ...subjectOf(r) }));
}

async function guardHeldActions(reads: CaseIntakePort, since: number, id?: string): Promise<NewCase[]> {
  const items = await reads.guardHeldActions(since, id);
  return items.map((r) => ({ type: 'GUARD_HELD_ACTION' as const, ...subjectOf(r) }));
}

function subjectOf(item: IntakeItem) {
  return { subjectId: item.id, lineId: item.lineId, borrowerId: item.borrowerId, since: item.createdAt };
}

async function openAlerts(reads: CaseIntakePort, since: number): Promise<NewCase[]> {
  return (await reads.openAlerts(since)).map(alertCase);
}

/** Opens the cases for what was found; returns how many were new. */
export async function openCases(deps: CaseDeps, found: Found): Promise<number> {
  if (found.cases.length === 0) return 0;
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    let opened = 0;
    for (const c of found.cases) {
      const row = newCaseRow(deps.ids.next(), c, deps.config.sla, now);
      if ((await deps.rows.insertCases(tx, [row])) === 1) {
        opened += 1;
        await appendToLedger(tx, [caseOpenedLedger(row)]);
      }
    }
    return opened;
  });
}

export interface IntakeSweeper {
  /** Sweeps everything committed since the last sweep (with an overlap for transactions that committed late). */
  sweep(): Promise<number>;
}

/** Transactions may commit a little after the instant they stamped; re-read this far back on each sweep. */
const SWEEP_OVERLAP_MS = 60_000;

export function createIntakeSweeper(deps: CaseDeps): IntakeSweeper {
  let lastSweep: number | undefined;
  return {
    async sweep() {
      const now = deps.clock.now();
      const since =
        lastSweep === undefined ? now - deps.config.intakeLookbackMs : lastSweep - SWEEP_OVERLAP_MS;
      const reads = deps.intake;
      const cases = [
        ...(await reviewApplications(reads, since)),
        ...(await heldDraws(reads, since, now, deps.config.challengeWindowMs)),
        ...(await guardHeldActions(reads, since)),
        ...(await openAlerts(reads, since)),
      ];
      const opened = await openCases(deps, { cases });
      lastSweep = now;
      return opened;
    },
  };
}

/** Opens the case for one subject right after the request that left it (no wait for the next sweep). */
export async function intakeSubject(
  deps: CaseDeps,
  subject: { kind: 'application' | 'draw' | 'line_action'; id: string },
): Promise<number> {
  const reads = deps.intake;
  const now = deps.clock.now();
  const cases =
    subject.kind === 'application'
      ? await reviewApplications(reads, 0, subject.id)
      : subject.kind === 'draw'
        ? await heldDraws(reads, 0, now, deps.config.challengeWindowMs, subject.id)
        : await guardHeldActions(reads, 0, subject.id);
  return openCases(deps, { cases });
}
