import { canonicalJson } from '../domain/index.js';
import {
  ledgerStorage,
  type AppealFactRecord,
  type ChangeFactRecord,
  type ComplaintFactRecord,
  type LedgerHandle,
  type LineActionFactRecord,
} from './ledger.js';
import {
  APPEAL_OUTCOME,
  APPEAL_STATEMENT,
  COMPLAINT_EXTENSION,
  COMPLAINT_RESOLUTION,
  COMPLAINT_STATEMENT,
} from './sealed-cases.js';
import { CASE_NOTE, CHANGE_DECISION_NOTE, CHANGE_PROPOSAL, CHANGE_REASON } from './sealed-case-work.js';
import { LINE_ACTION_NOTE } from './sealed-line-actions.js';
import {
  checkLaterText,
  pages,
  PAGE_ROWS,
  proveCommitted,
  proveHeld,
  sameJson,
  type ChangeEntries,
  type Findings,
  type Payload,
  type SealedCheck,
} from './facts-proof.js';

/**
 * The fact check (facts.ts) of what people do with cases: appeals, complaints, case notes, line actions' notes and
 * four-eyes pending changes, each against the ledger entries that record it.
 */
/**
 * Each appeal against its appeal.filed entry (whose it is, what it is against, its deadline, its text) and its
 * appeal.decided entry: decided, with that entry's state and an outcome, exactly when the entry exists; open, with no
 * outcome, otherwise.
 */
export async function checkAppeals(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const { index, findings } = check;
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().appealsAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const where = { table: 'appeals', id: row.id } as const;
      const filed = index.appealsFiled.get(row.id);
      if (!filed) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      findings.compare(where, 'borrower_id', row.borrower_id, filed.borrowerId);
      const target = { kind: row.target_kind, id: row.target_id, lineId: row.line_id };
      findings.compare(where, 'target', target, filed.target);
      findings.compare(where, 'deadline_at', Number(row.deadline_at), filed.deadlineAt);
      const text = { committed: row.text, rider: row.documents };
      proveCommitted(check, { where, field: 'text', pair: APPEAL_STATEMENT, stored: text }, filed.textHmac);
      checkAppealDecision(check, row, index.appealsDecided.get(row.id));
    },
  );
  // An appeal in the ledger whose row is gone: what the borrower asked, and how it was answered, deleted.
  for (const id of new Set([...index.appealsFiled.keys(), ...index.appealsDecided.keys()]))
    if (!seen.has(id)) findings.compare({ table: 'appeals', id }, '(row)', 'missing', 'present');
  return count;
}

/** The state it was decided with, and the outcome (the reviewer's texts, with what a decision adds, as stored). */
export function checkAppealDecision(
  check: SealedCheck,
  row: AppealFactRecord,
  decided: Payload | undefined,
): void {
  const where = { table: 'appeals', id: row.id } as const;
  check.findings.compare(where, 'state', row.state, decided?.state ?? 'OPEN');
  checkLaterText(
    check,
    { where, field: 'outcome', pair: APPEAL_OUTCOME, committed: row.outcome_zh, rider: row.outcome_en },
    decided && { commitment: decided.outcomeHmac },
  );
}

/**
 * Each complaint against its complaint.filed entry (whose it is, its category, its text, its deadline), its
 * complaint.extended entry (extended, with a reason and the later deadline, exactly when it exists) and its case's
 * case.resolved entry (resolved, with a resolution, exactly when it exists).
 */
export async function checkComplaints(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const { index, findings } = check;
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().complaintsAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const where = { table: 'complaints', id: row.id } as const;
      const filed = index.complaintsFiled.get(row.id);
      if (!filed) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      findings.compare(where, 'borrower_id', row.borrower_id, filed.borrowerId);
      findings.compare(where, 'category', row.category, filed.category);
      const text = { committed: row.text, rider: '' };
      proveCommitted(
        check,
        { where, field: 'text', pair: COMPLAINT_STATEMENT, stored: text },
        filed.textHmac,
      );
      checkExtension(check, row, { filed, extended: index.complaintsExtended.get(row.id) });
      const resolved = index.complaintsResolved.get(row.id);
      findings.compare(where, 'state', row.state, resolved ? 'RESOLVED' : 'OPEN');
      checkLaterText(
        check,
        {
          where,
          field: 'resolution',
          pair: COMPLAINT_RESOLUTION,
          committed: row.resolution_zh,
          rider: row.resolution_en,
        },
        resolved && { commitment: resolved.resolutionHmac },
      );
    },
  );
  // A complaint in the ledger whose row is gone: what the borrower complained of, and what was done, deleted.
  const recorded = [
    ...index.complaintsFiled.keys(),
    ...index.complaintsExtended.keys(),
    ...index.complaintsResolved.keys(),
  ];
  for (const id of new Set(recorded))
    if (!seen.has(id)) findings.compare({ table: 'complaints', id }, '(row)', 'missing', 'present');
  return count;
}

/** What a report shows for the reason an older complaint.extended entry holds (free text can name the borrower). */
export const ENTRY_REASON = '(the reason the extended entry holds)';
export const EXTENDED = '(extended)';

/**
 * The deadline (the filed one, or the extended entry's) and whether the complaint was extended, with its reason: proven
 * by the entry's commitment (`reasonHmac`), or, in an entry written before sealing, compared with the reason it holds.
 */
export function checkExtension(
  check: SealedCheck,
  row: ComplaintFactRecord,
  entries: { readonly filed: Payload; readonly extended: Payload | undefined },
): void {
  const where = { table: 'complaints', id: row.id } as const;
  const { findings } = check;
  const { filed, extended } = entries;
  findings.compare(where, 'due_at', Number(row.due_at), (extended ?? filed).dueAt);
  findings.compare(
    where,
    'extended_at',
    row.extended_at === null ? null : EXTENDED,
    extended ? EXTENDED : null,
  );
  const stored = row.extension_reason;
  if (!extended || extended.reasonHmac !== undefined || typeof extended.reason !== 'string')
    return checkLaterText(
      check,
      { where, field: 'extension_reason', pair: COMPLAINT_EXTENSION, committed: stored, rider: null },
      extended && { commitment: extended.reasonHmac },
    );
  if (stored === null) return findings.compare(where, 'extension_reason', null, ENTRY_REASON);
  const value = {
    where,
    field: 'extension_reason',
    pair: COMPLAINT_EXTENSION,
    stored: { committed: stored, rider: '' },
  };
  const reason = extended.reason;
  proveHeld(
    check,
    value,
    { says: ENTRY_REASON, other: '(another reason)' },
    (opened) => opened.committed === reason,
  );
}

/** What a report shows for the text an older case.note entry holds. */
export const ENTRY_NOTE_TEXT = { says: '(the text the note entry holds)', other: '(another text)' };

/**
 * Each case note against the entry that names it (case.note, or the step that wrote it): on that case, by that
 * author, with that text (proven by the entry's commitment, or compared with the text an older case.note holds). One
 * an entry names whose row is gone is a mismatch.
 *
 * A note no entry names: every path that writes a note names it in its entry now (src/cases/service.ts, outcomes.ts),
 * so only an entry written before could have written one — a resolution, a failed outcome, a refusal without the
 * naming field, a move holding its text — and each wrote at most one. A case's unnamed notes up to the count of such
 * older entries on it are counted (`unrecordedNotes`); beyond it, one of them was put there by other means, and the
 * ledger cannot say which: all of that case's unnamed notes are reported. Decided from the ledger alone, never from
 * the row (a forged row can claim any created_at): a case opened since, whose entries all name their notes, allows
 * none. The rule trusts a fleet not to run code from before named notes beside code after them (a rolling upgrade
 * should drain case work first), else an older process's note would be reported.
 */
export async function checkCaseNotes(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const { index, findings } = check;
  const seen = new Set<string>();
  const unnamed = new Map<string, string[]>();
  const count = await pages(
    (after) => ledgerStorage().caseNotesAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const entry = index.notes.get(row.id);
      if (!entry) {
        const ids = unnamed.get(row.case_id);
        if (ids) ids.push(row.id);
        else unnamed.set(row.case_id, [row.id]);
        return;
      }
      const where = { table: 'case_notes', id: row.id } as const;
      findings.compare(where, 'case_id', row.case_id, entry.caseId);
      findings.compare(where, 'author', row.author, entry.by);
      const value = { where, field: 'text', pair: CASE_NOTE, stored: { committed: row.text, rider: '' } };
      const text = entry.text;
      if (entry.textHmac !== undefined || typeof text !== 'string')
        return proveCommitted(check, value, entry.textHmac);
      proveHeld(check, value, ENTRY_NOTE_TEXT, (opened) => opened.committed === text);
    },
  );
  // A note the ledger names whose row is gone: what an analyst wrote about the borrower, deleted.
  for (const id of index.notes.keys())
    if (!seen.has(id)) findings.compare({ table: 'case_notes', id }, '(row)', 'missing', 'present');
  for (const [caseId, ids] of unnamed) {
    if (ids.length <= (index.unnamedNotesAllowed.get(caseId) ?? 0)) findings.unrecordedNotes += ids.length;
    else
      for (const id of ids)
        findings.compare({ table: 'case_notes', id }, '(ledger entry)', 'present', 'missing');
  }
  return count;
}

/** What a report shows for the note an older application.reviewed entry holds. */
export const ENTRY_REVIEW_NOTE = { says: '(the note the reviewed entry holds)', other: '(another note)' };

/**
 * Each line action's note against its line.action entry (the action's id), whose `noteHmac` commits to it since
 * line-action notes were sealed (ba551b8, src/core/lines.ts, reviews.ts, applications.ts): proven by it; a null note
 * there is a mismatch. An entry with `noteHmac: null` says the action has no note (every entry says so outright now),
 * so a note on its row disagrees. An entry without the key was written before: for an action without a note, or
 * before sealing, when no entry carried it; which, the ledger cannot say, so it proves nothing about the note: a row
 * without one agrees, a row with one is counted (`withoutCommitment`), never taken as "no note". A reviewer's GRANT is proven
 * by its application.reviewed too: `noteHmac` equal to the line.action's; an older one holds the note in clear
 * (`note`, null for none), compared with the opened note and reported by placeholders, never the text.
 */
/**
 * Every line action against its line.action entry (entryId = the action's id, written in the same unit since the first
 * version): what was done to the line and why (the reasons a borrower is shown), by whom, and its note. A row with no
 * entry was written by other means, and an entry whose row is gone was deleted from what the borrower and the cases
 * see. A GRANT's entry holds the line it opened (limitMinor, annualRate), not a before and after.
 */
export async function checkLineActions(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().lineActionsAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const entry = check.index.lineActions.get(row.id);
      if (!entry)
        return check.findings.compare(
          { table: 'line_actions', id: row.id },
          '(ledger entry)',
          'present',
          'missing',
        );
      compareLineAction(check.findings, row, entry);
      checkLineActionNote(check, row, entry);
    },
  );
  for (const id of check.index.lineActions.keys())
    if (!seen.has(id)) check.findings.compare({ table: 'line_actions', id }, '(row)', 'missing', 'present');
  return count;
}

/** A line action's columns and the entry's fields that say the same (those an entry holds: a GRANT's hold fewer). */
function lineActionFields(row: LineActionFactRecord): Record<string, unknown> {
  const common = {
    lineId: row.line_id,
    type: row.type,
    outcome: row.outcome,
    reasons: JSON.parse(row.reasons) as unknown,
    traceId: row.trace_id,
    automated: row.automated === 1,
    actor: row.actor,
  };
  if (row.type === 'GRANT')
    return { ...common, limitMinor: Number(row.new_limit_minor), annualRate: Number(row.new_rate) };
  return {
    ...common,
    appealable: row.appealable === 1,
    prevStatus: row.prev_status,
    newStatus: row.new_status,
    prevLimitMinor: Number(row.prev_limit_minor),
    newLimitMinor: Number(row.new_limit_minor),
    newAnnualRate: Number(row.new_rate),
  };
}

function compareLineAction(findings: Findings, row: LineActionFactRecord, entry: Payload): void {
  const where = { table: 'line_actions', id: row.id } as const;
  for (const [field, value] of Object.entries(lineActionFields(row)))
    // An application's GRANT entry names no actor (the row says 'strategy:application').
    if (field in entry) findings.compare(where, field, value, entry[field]);
}

/** The note against the entry's commitment (`noteHmac`), or, for a reviewed GRANT, its application.reviewed entry's. */
function checkLineActionNote(check: SealedCheck, row: LineActionFactRecord, entry: Payload): void {
  // `noteHmac: null`: written since entries say "no note" outright; the row must hold none.
  if (entry.noteHmac === null)
    return check.findings.compare(
      { table: 'line_actions', id: row.id },
      'note',
      row.note === null ? null : '(a text)',
      null,
    );
  const reviewed = row.type === 'GRANT' ? check.index.reviewedGrants.get(row.line_id) : undefined;
  const committed = entry.noteHmac ?? reviewed?.noteHmac;
  if (reviewed?.noteHmac !== undefined && entry.noteHmac !== undefined)
    check.findings.compare(
      { table: 'line_actions', id: row.id },
      'note (application.reviewed)',
      entry.noteHmac,
      reviewed.noteHmac,
    );
  if (typeof committed === 'string') return proveLineActionNote(check, row, committed);
  if (reviewed && 'note' in reviewed) return checkReviewedNote(check, row, reviewed.note);
  if (row.note !== null) check.findings.withoutCommitment += 1;
}

export function proveLineActionNote(check: SealedCheck, row: LineActionFactRecord, commitment: string): void {
  const where = { table: 'line_actions', id: row.id } as const;
  if (row.note === null) return check.findings.compare(where, 'note', null, commitment);
  const value = { where, field: 'note', pair: LINE_ACTION_NOTE, stored: { committed: row.note, rider: '' } };
  proveCommitted(check, value, commitment);
}

/** A reviewer's GRANT note against the clear note (or null) an application.reviewed entry written before sealing holds. */
export function checkReviewedNote(check: SealedCheck, row: LineActionFactRecord, held: unknown): void {
  const where = { table: 'line_actions', id: row.id } as const;
  if (typeof held !== 'string')
    return check.findings.compare(where, 'note', row.note === null ? null : '(a text)', null);
  if (row.note === null) return check.findings.compare(where, 'note', null, ENTRY_REVIEW_NOTE.says);
  const value = { where, field: 'note', pair: LINE_ACTION_NOTE, stored: { committed: row.note, rider: '' } };
  proveHeld(check, value, ENTRY_REVIEW_NOTE, (opened) => opened.committed === held);
}

/**
 * The state a change's entries leave it in. An approval whose operation then failed to apply is FAILED, as is one
 * refused when applied in the approval's unit (no change.approved entry then).
 */
export function changeState(entries: ChangeEntries): string {
  if (entries.failed) return 'FAILED';
  if (entries.rejected) return 'REJECTED';
  if (entries.expired) return 'EXPIRED';
  if (entries.approved) return 'APPROVED';
  return 'PENDING';
}

/**
 * Each pending change against its entries: what it does to what and who made it (change.proposed), its state and
 * checker (which of change.approved, .rejected, .expired, .failed exist), what it proposes and why (the commitments in
 * change.proposed), and the checker's note (the commitment in change.approved or .rejected).
 */
export async function checkChanges(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const { index, findings } = check;
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().changesAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const where = { table: 'pending_changes', id: row.id } as const;
      const entries = index.changes.get(row.id);
      const proposed = entries?.proposed;
      if (!entries || !proposed) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      findings.compare(where, 'operation', row.operation, proposed.operation);
      findings.compare(where, 'subject_id', row.subject_id, proposed.subjectId);
      findings.compare(where, 'maker', row.maker, proposed.maker);
      findings.compare(where, 'state', row.state, changeState(entries));
      const decider = entries.failed ?? entries.rejected ?? entries.approved;
      findings.compare(where, 'checker', row.checker, decider?.checker ?? null);
      checkProposal(check, row, proposed);
      checkDecisionNote(check, row, entries.rejected ?? entries.approved);
    },
  );
  // A change the ledger records whose row is gone: what was asked of a second person, and the answer, deleted.
  for (const id of index.changes.keys())
    if (!seen.has(id)) findings.compare({ table: 'pending_changes', id }, '(row)', 'missing', 'present');
  return count;
}

/** What a report shows for the diff and the reason an older change.proposed entry holds. */
export const ENTRY_DIFF = { says: '(the diff the proposed entry holds)', other: '(another diff)' };
export const ENTRY_CHANGE_REASON = {
  says: '(the reason the proposed entry holds)',
  other: '(another reason)',
};

/**
 * The payload (the diff riding) and the reason against the change.proposed entry's commitments (`payloadHmac`,
 * `reasonHmac`). An entry written before sealing holds the diff and the reason in clear, which are compared, and
 * nothing of the payload, which is counted.
 */
export function checkProposal(check: SealedCheck, row: ChangeFactRecord, proposed: Payload): void {
  const where = { table: 'pending_changes', id: row.id } as const;
  const proposal = { where, pair: CHANGE_PROPOSAL, stored: { committed: row.payload, rider: row.diff } };
  if (proposed.payloadHmac !== undefined || !('diff' in proposed))
    proveCommitted(check, { ...proposal, field: 'payload' }, proposed.payloadHmac);
  else {
    check.findings.withoutCommitment += 1;
    const diff = canonicalJson(proposed.diff ?? null);
    proveHeld(check, { ...proposal, field: 'diff' }, ENTRY_DIFF, (opened) => sameJson(opened.rider, diff));
  }
  const reason = {
    where,
    field: 'reason',
    pair: CHANGE_REASON,
    stored: { committed: row.reason, rider: '' },
  };
  const held = proposed.reason;
  if (proposed.reasonHmac !== undefined || typeof held !== 'string')
    return proveCommitted(check, reason, proposed.reasonHmac);
  proveHeld(check, reason, ENTRY_CHANGE_REASON, (opened) => opened.committed === held);
}

/** What a report shows for the checker's note an older change.approved or .rejected entry holds. */
export const ENTRY_DECISION_NOTE = { says: '(the note the decided entry holds)', other: '(another note)' };

/**
 * The checker's note against the change.approved or .rejected entry (none while pending, expired, or failed before an
 * approval): a note exactly when the entry records one (`noteHmac`, null for none), then proven by that commitment; an
 * entry written before sealing holds the note (or null) in clear, which is compared.
 */
export function checkDecisionNote(
  check: SealedCheck,
  row: ChangeFactRecord,
  decided: Payload | undefined,
): void {
  const where = { table: 'pending_changes', id: row.id } as const;
  const field = 'decision_note';
  const stored = row.decision_note;
  const older = decided !== undefined && decided.noteHmac === undefined && 'note' in decided;
  const held = older ? decided.note : undefined;
  if (!decided || decided.noteHmac === null || (older && held === null))
    return check.findings.compare(where, field, stored === null ? null : '(a text)', null);
  if (typeof held !== 'string')
    return checkLaterText(
      check,
      { where, field, pair: CHANGE_DECISION_NOTE, committed: stored, rider: null },
      { commitment: decided.noteHmac },
    );
  if (stored === null) return check.findings.compare(where, field, null, ENTRY_DECISION_NOTE.says);
  const value = { where, field, pair: CHANGE_DECISION_NOTE, stored: { committed: stored, rider: '' } };
  proveHeld(check, value, ENTRY_DECISION_NOTE, (opened) => opened.committed === held);
}
