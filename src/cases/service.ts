import type { UnitGuard } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { appendToLedger, isSealedDataUnreadable, openCaseNote, sealCaseNote } from '../compliance/index.js';
import type { CaseTx } from './ports.js';
import type { CaseFilter, CaseNoteRow, CaseRow } from './records.js';
import { gatherEvidence } from './evidence.js';
import { assertTransition, type CaseState } from './model.js';
import type { CaseDeps } from './ports.js';
import { caseView, noteView, type CaseView, type NoteView } from './rows.js';

/** Queue operations: list, read with evidence, assign, move, annotate, and the SLA sweep. */

/** Roles that may hold a case. */
export const ASSIGNABLE_ROLES: ReadonlySet<string> = new Set([
  'analyst',
  'supervisor',
  'admin',
  'risk_analyst',
]);

export async function listQueue(deps: CaseDeps, filter: CaseFilter) {
  const page = await deps.rows.listCases(deps.store.db, filter);
  return { items: page.rows.map(caseView), nextCursor: page.next };
}

export async function readCase(deps: CaseDeps, id: string) {
  const row = await deps.rows.findCase(deps.store.db, deps.store.kind, id);
  const [notes, history, evidence] = await Promise.all([
    deps.rows.notesOf(deps.store.db, id),
    deps.rows.ledgerOf(deps.store.db, id),
    gatherEvidence(deps, row),
  ]);
  return {
    ...caseView(row),
    notes: notes.map((note) => noteShown(deps, note)),
    history: history.map((h) => ({
      seq: Number(h.seq),
      kind: h.kind,
      payload: JSON.parse(h.payload) as unknown,
      at: new Date(Number(h.recorded_at)).toISOString(),
    })),
    evidence,
  };
}

/**
 * A note as the case shows it: opened (notes are sealed at rest, compliance/sealed-case-work.ts); or, when no held key
 * opens it, with its text null and `unreadable` saying why: the case stays readable, never showing another row's text.
 */
function noteShown(deps: CaseDeps, row: CaseNoteRow) {
  try {
    return noteView(openCaseNote(deps.crypto, row));
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { ...noteView(row), text: null, unreadable: error.message };
  }
}

/** One step on a case (state change, note, assignment) with its ledger entry, in one dbTx. */
export async function caseStep(
  deps: CaseDeps,
  tx: CaseTx,
  row: CaseRow,
  step: {
    to?: CaseState;
    kind: string;
    actor: string;
    detail?: Record<string, unknown>;
    patch?: Partial<CaseRow>;
  },
): Promise<void> {
  const now = deps.clock.now();
  const to = step.to ?? (row.state as CaseState);
  if (step.to) assertTransition(row.id, row.state, step.to);
  await deps.rows.updateCase(tx, row.id, row.state, { ...step.patch, state: to, updated_at: now });
  await appendToLedger(tx, [
    {
      entryId: deps.ids.next(),
      kind: step.kind,
      subjectId: row.id,
      recordedAt: now,
      payload: { caseId: row.id, type: row.type, from: row.state, to, by: step.actor, ...step.detail },
    },
  ]);
}

export async function assignCase(
  deps: CaseDeps,
  id: string,
  input: { assignee: string; actor: string },
  guard?: UnitGuard<CaseView>,
): Promise<CaseView> {
  const user = await deps.rows.userById(deps.store.db, input.assignee);
  if (!user || !ASSIGNABLE_ROLES.has(user.role))
    throw new LgError(
      'LG_VALIDATION',
      'assign a case to a user with the analyst, supervisor, risk_analyst or admin role',
      {
        assignee: input.assignee,
      },
    );
  // The unit's value is the answer, read in the unit: a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    const row = await deps.rows.findCase(tx, deps.store.kind, id, true);
    await caseStep(deps, tx, row, {
      to: 'ASSIGNED',
      kind: 'case.assigned',
      actor: input.actor,
      detail: { assignee: user.id, assigneeName: user.name },
      patch: { assignee: user.id },
    });
    return caseView(await deps.rows.findCase(tx, deps.store.kind, id));
  }, guard);
}

/** Moves a case to PENDING_CUSTOMER, ESCALATED or back to OPEN (unassigned); resolution goes through resolveCase. */
export async function moveCase(
  deps: CaseDeps,
  id: string,
  input: { to: 'OPEN' | 'PENDING_CUSTOMER' | 'ESCALATED'; actor: string; note?: string },
  guard?: UnitGuard<CaseView>,
): Promise<CaseView> {
  // The unit's value is the answer, read in the unit: a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    const row = await deps.rows.findCase(tx, deps.store.kind, id, true);
    const now = deps.clock.now();
    // The note is sealed in its row; the step's entry names it and commits to its text (never the text itself).
    const note = input.note ? await addNoteInTx(deps, tx, id, input.actor, input.note) : undefined;
    await caseStep(deps, tx, row, {
      to: input.to,
      kind: 'case.moved',
      actor: input.actor,
      detail: note ? { noteId: note.id, noteHmac: note.textHmac } : { note: null },
      patch: {
        ...(input.to === 'OPEN' ? { assignee: null } : {}),
        ...(input.to === 'ESCALATED' ? { escalated_at: now } : {}),
      },
    });
    return caseView(await deps.rows.findCase(tx, deps.store.kind, id));
  }, guard);
}

/** Writes a note sealed at rest; answers it as written, with the commitment to its text for a ledger entry. */
export async function addNoteInTx(deps: CaseDeps, tx: CaseTx, caseId: string, author: string, text: string) {
  const id = deps.ids.next();
  const sealed = sealCaseNote(deps.crypto, id, text);
  const note = { id, case_id: caseId, author, text, created_at: deps.clock.now() };
  await deps.rows.insertNote(tx, { ...note, text: sealed.sealed });
  return { ...note, textHmac: sealed.hmac };
}

export async function addNote(
  deps: CaseDeps,
  id: string,
  input: { actor: string; text: string },
  guard?: UnitGuard<NoteView>,
): Promise<NoteView> {
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    const row = await deps.rows.findCase(tx, deps.store.kind, id, true);
    const note = await addNoteInTx(deps, tx, id, input.actor, input.text);
    // A note does not change the state; the ledger still records who wrote what and when.
    await caseStep(deps, tx, row, {
      kind: 'case.note',
      actor: input.actor,
      detail: { noteId: note.id, textHmac: note.textHmac },
    });
    return noteView(note);
  }, guard);
}

/**
 * SLA sweep: every unresolved case past its due time is escalated once (ESCALATED, a ledger entry) and counted in
 * the breach metric. A case already ESCALATED is only marked breached.
 */
export async function sweepSla(deps: CaseDeps, batchMax = 1_000): Promise<{ breached: string[] }> {
  const now = deps.clock.now();
  const due = await deps.rows.openCasesPastDue(deps.store.db, now, batchMax);
  const escalatedOnly = await deps.rows.escalatedPastDue(deps.store.db, now, batchMax);
  const breached: string[] = [];
  for (const row of [...due, ...escalatedOnly]) {
    try {
      const breachedHere = await deps.store.transaction(async (tx) => {
        const current = await deps.rows.findCase(tx, deps.store.kind, row.id, true);
        // Resolved meanwhile, or breached by another sweep (another process) since the list was read.
        if (current.state === 'RESOLVED' || Number(current.sla_breached) === 1) return false;
        await caseStep(deps, tx, current, {
          to: current.state === 'ESCALATED' ? undefined : 'ESCALATED',
          kind: 'case.sla_breached',
          actor: 'job:sla',
          detail: { slaDueAt: Number(current.sla_due_at) },
          patch: { sla_breached: 1, escalated_at: current.escalated_at ?? now },
        });
        return true;
      });
      if (!breachedHere) continue;
      deps.metrics?.slaBreached(row.type);
      breached.push(row.id);
    } catch (error) {
      // A case someone moved meanwhile is picked up by the next sweep.
      if (!(error instanceof LgError)) throw error;
    }
  }
  return { breached };
}
