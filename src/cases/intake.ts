import { appendToLedger, appendToLedgerSync, type LedgerAppend } from '../compliance/index.js';
import { readInCommitOrder, type CommitPageCursor } from '../domain/index.js';
import type { CaseRow } from './records.js';
import type { CaseAlertRecord } from './records.js';
import type {
  CaseAlertFollowUp,
  CaseDeps,
  CaseIntakePort,
  CaseRowsPort,
  CaseTx,
  CommittedIntakePort,
  IntakeItem,
  IntakePage,
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

const reviewApplicationCase = (r: IntakeItem): NewCase => ({
  type: 'REVIEW_APPLICATION',
  subjectId: r.id,
  borrowerId: r.borrowerId,
  since: r.createdAt,
});
const heldDrawCase = (r: IntakeItem): NewCase => ({ type: 'HELD_DRAW', ...subjectOf(r) });
const guardHeldActionCase = (r: IntakeItem): NewCase => ({ type: 'GUARD_HELD_ACTION', ...subjectOf(r) });

function subjectOf(item: IntakeItem) {
  return { subjectId: item.id, lineId: item.lineId, borrowerId: item.borrowerId, since: item.createdAt };
}

async function reviewApplications(reads: CaseIntakePort, since: number, id?: string): Promise<NewCase[]> {
  return (await reads.reviewApplications(since, id)).map(reviewApplicationCase);
}

async function heldDraws(
  reads: CaseIntakePort,
  since: number,
  now: number,
  windowMs: number,
  id?: string,
): Promise<NewCase[]> {
  // A CHALLENGE with no step-up result inside its window is held for a person.
  return (await reads.heldDraws({ since, now, windowMs }, id)).map(heldDrawCase);
}

async function guardHeldActions(reads: CaseIntakePort, since: number, id?: string): Promise<NewCase[]> {
  return (await reads.guardHeldActions(since, id)).map(guardHeldActionCase);
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
  /** Opens the cases for the work committed since the last sweep that has none (the immediate hook did not run). */
  sweep(): Promise<number>;
}

/**
 * Where one process writes the database (SQLite) its units stamp created_at with the sweep's own clock and commit
 * within the group committer's queue wait, far below this; each sweep re-reads by time from this far before the last
 * one (a late batch, the clock stepped back by a time sync).
 */
const SWEEP_OVERLAP_MS = 60_000;
/** Subjects per read when following what committed; a sweep that fell behind pages on. */
const FOLLOW_PAGE_SUBJECTS = 1_000;

/** One kind of subject followed in commit order: a page of new cases after `from`. */
type Follow = (from: CommitPageCursor) => Promise<IntakePage<NewCase>>;

async function mapPage<T>(page: Promise<IntakePage<T>>, toCase: (item: T) => NewCase) {
  const read = await page;
  return { ...read, items: read.items.map(toCase) };
}

function followers(deps: CaseDeps, committed: CommittedIntakePort, now: number): Follow[] {
  const limit = FOLLOW_PAGE_SUBJECTS;
  const challengedBy = now - deps.config.challengeWindowMs;
  return [
    (from) => mapPage(committed.reviewApplications(from, limit), reviewApplicationCase),
    (from) => mapPage(committed.heldDraws(from, { limit, challengedBy }), heldDrawCase),
    (from) => mapPage(committed.guardHeldActions(from, limit), guardHeldActionCase),
    (from) => mapPage(committed.openAlerts(from, limit), alertCase),
  ];
}

/**
 * Opens the cases of every kind of subject whose unit committed after the place `seen`, paging through each, all read
 * against one snapshot (the first page's); returns how many it opened and that snapshot, the next sweep's place.
 */
async function followCommitted(
  deps: CaseDeps,
  follows: readonly Follow[],
  seen: string,
): Promise<{ opened: number; followedTo: string }> {
  let opened = 0;
  let now: string | undefined;
  for (const follow of follows) {
    const read = await readInCommitOrder(
      { seen, ...(now === undefined ? {} : { now }) },
      FOLLOW_PAGE_SUBJECTS,
      async (cursor) => {
        const page = await follow(cursor);
        return { snapshot: page.snapshot, rows: page.items, last: page.last };
      },
      async (cases) => {
        opened += await openCases(deps, { cases: [...cases] });
      },
    );
    now ??= read;
  }
  return { opened, followedTo: now ?? seen };
}

/** Sweeps by created_at from `since`: every sweep with one writer, the first one after a start with several. */
async function sweepByTime(deps: CaseDeps, since: number, now: number): Promise<number> {
  const reads = deps.intake;
  const cases = [
    ...(await reviewApplications(reads, since)),
    ...(await heldDraws(reads, since, now, deps.config.challengeWindowMs)),
    ...(await guardHeldActions(reads, since)),
    ...(await openAlerts(reads, since)),
  ];
  return openCases(deps, { cases });
}

/**
 * A sweep where several processes write (PostgreSQL): what committed after `from`, in commit order, then the CHALLENGE
 * draws whose window ended since the last sweep (they become work by time alone: one whose window was already over when
 * it was followed opens then; any other had committed, and was followed, before the sweep that sees its window end, so
 * that sweep's read by time finds it). Returns the cases opened and where the next sweep follows from.
 */
async function sweepCommitted(
  deps: CaseDeps,
  committed: CommittedIntakePort,
  at: { readonly from: string; readonly since: number; readonly now: number },
): Promise<{ opened: number; followFrom: string }> {
  const followed = await followCommitted(deps, followers(deps, committed, at.now), at.from);
  const windowMs = deps.config.challengeWindowMs;
  const challenges = await committed.timedOutChallenges({ since: at.since, now: at.now, windowMs });
  const opened = followed.opened + (await openCases(deps, { cases: challenges.map(heldDrawCase) }));
  return { opened, followFrom: followed.followedTo };
}

/**
 * The sweep. With one writer it reads by created_at. Where several processes write, created_at is the writer's clock,
 * stamped before its unit commits: a process whose clock lags, or a unit that commits late, wrote its row behind a
 * sweep that had read past that instant, and the work never reached a person. There the sweep follows what committed
 * in commit order, as the monitor follows events and alerts, from where its last sweep read up to; the first sweep
 * after a start reads by time back `intakeLookbackMs`, and follows from a snapshot taken before it reads.
 */
export function createIntakeSweeper(deps: CaseDeps): IntakeSweeper {
  const committed = deps.intake.committed;
  let lastSweep: number | undefined;
  /** Where the next sweep follows from (several writers): a snapshot whose every ended unit has been read. */
  let followFrom: string | undefined;
  return {
    async sweep() {
      const now = deps.clock.now();
      let opened: number;
      if (committed && followFrom !== undefined && lastSweep !== undefined) {
        const swept = await sweepCommitted(deps, committed, {
          from: followFrom,
          since: lastSweep - SWEEP_OVERLAP_MS,
          now,
        });
        ({ opened, followFrom } = swept);
      } else {
        // Whatever commits while the tables are read by time is followed from here on.
        const place = committed ? await committed.followFrom() : undefined;
        const since =
          lastSweep === undefined ? now - deps.config.intakeLookbackMs : lastSweep - SWEEP_OVERLAP_MS;
        opened = await sweepByTime(deps, since, now);
        followFrom = place;
      }
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
