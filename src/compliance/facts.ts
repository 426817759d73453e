import { canonicalJson } from '../domain/index.js';
import { DEFAULT_BUCKETS } from '../domain/index.js';
import { availableMinor, type LineStatus } from '../domain/index.js';
import { sha256Hex } from '../domain/index.js';
import {
  ledgerStorage,
  type AppealFactRecord,
  type ChangeFactRecord,
  type ComplaintFactRecord,
  type DecisionFactRecord,
  type DisputeFactRecord,
  type LedgerHandle,
  type LineActionNoteFactRecord,
  type SubmissionFactRecord,
} from './ledger.js';
import type { LedgerRow } from './ledger.js';
import { FieldCryptoError, isSealedValue, type FieldCrypto } from './crypto.js';
import { openDecision } from './sealed-decisions.js';
import { openDispute, openOutcomeTexts } from './sealed-disputes.js';
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
  isSealedDataUnreadable,
  openPair,
  type OpenedPair,
  type SealedPair,
  type StoredPair,
} from './sealed-pair.js';
import { openSubmissionRow } from './sealed-submissions.js';

/**
 * The facts the API serves (decisions, lines, loans, disputes, appeals, complaints, case notes, four-eyes pending
 * changes) and what was sent to the credit bureau are re-derived from the ledger and compared with their rows, so an
 * edit to a fact table — which leaves the hash chain intact — is still found. What the ledger does not carry (e.g. a
 * line's dpd, recomputed daily from the schedule) is not checked here.
 *
 * Personal data is sealed at rest, and the ledger entry holds a keyed commitment to it instead (sealed-pair.ts): a
 * decision's context and trace, a dispute's claim and text and its reviewer's outcome, a sent submission's payload and
 * subject, an appeal's text (with its documents) and outcome, a complaint's text, extension reason and resolution, a
 * case note's text, a pending change's payload (with its diff), reason and checker's note, a line action's note (the
 * second value of a pair only in pairs sealed since riders were committed). With the data key each is opened and proven against its
 * commitment (or, for an entry written before sealing, against the hash or the clear value it holds), so a value
 * re-sealed with the same key is found too. An appeal's or a complaint's entry written before the ledger committed to
 * its texts holds neither a commitment nor the text, nor does a change.proposed entry written before sealing hold the
 * payload, nor does a line.action entry written before line-action notes were sealed hold the note: nothing proves
 * that text, and it is counted (`withoutCommitment`), not a finding. A case note written with a resolution, a refused
 * change, a failed outcome or a move before those entries named their notes is named by no entry: it is counted too
 * (`unrecordedNotes`), as long as its case has no more such notes than such older entries (see checkCaseNotes). A
 * sealed value that cannot be proven is one of:
 * - no data key given: counted as `sealedUnchecked` (an auditor without personal-data access), not a finding;
 * - sealed under a key not held (one retired and dropped before `keys rotate-data` re-sealed the row, or a token naming
 *   an unknown key): `unverifiable`, neither proven nor disproven, and so not verified either (the CLI exits 4);
 * - a held key fails to open it (altered, or copied from another row): a mismatch, like any edit.
 */
export interface FactMismatch {
  readonly table: FactTable;
  readonly id: string;
  readonly field: string;
  readonly row: unknown;
  readonly ledger: unknown;
}

export type FactTable =
  | 'decisions'
  | 'credit_lines'
  | 'loans'
  | 'credit_disputes'
  | 'bureau_submissions'
  | 'appeals'
  | 'complaints'
  | 'case_notes'
  | 'pending_changes'
  | 'line_actions';

/** A sealed value no key given opens because its key (`keyId`) is not among them. */
export interface UnverifiableFact {
  readonly table: FactTable;
  readonly id: string;
  readonly field: string;
  readonly keyId: string;
}

export interface FactVerification {
  readonly ok: boolean;
  readonly checked: {
    readonly decisions: number;
    readonly lines: number;
    readonly loans: number;
    readonly disputes: number;
    readonly submissions: number;
    readonly appeals: number;
    readonly complaints: number;
    readonly notes: number;
    readonly changes: number;
    readonly lineActions: number;
  };
  /** Sealed values that were not proven because no data key was given (see above). */
  readonly sealedUnchecked: number;
  /**
   * Appeal and complaint texts, pending changes' payloads and line actions' notes whose entry predates the ledger's
   * commitments to them: nothing to prove them by.
   */
  readonly withoutCommitment: number;
  /**
   * Case notes no entry names, written with a resolution, a refused change, a failed outcome or a move before those
   * entries named their notes: nothing proves them.
   */
  readonly unrecordedNotes: number;
  readonly mismatches: FactMismatch[];
  /** Mismatches beyond the reported ones. */
  readonly moreMismatches: number;
  /** Sealed values under a key not held (see above): `ok` is false, yet nothing was found to disagree. */
  readonly unverifiable: UnverifiableFact[];
  readonly moreUnverifiable: number;
}

const MISMATCHES_MAX = 200;
const PAGE_ROWS = 2000;

type Payload = Record<string, unknown>;

interface LedgerIndex {
  readonly decisions: Map<string, Payload>;
  readonly disputes: Map<string, Payload>;
  readonly disputeDecisions: Map<string, Payload>;
  /** `bureau.submission_sent` by submission id, with the entry's subject (the borrower) as `subjectId`. */
  readonly submissionsSent: Map<string, Payload>;
  readonly appealsFiled: Map<string, Payload>;
  readonly appealsDecided: Map<string, Payload>;
  readonly complaintsFiled: Map<string, Payload>;
  readonly complaintsExtended: Map<string, Payload>;
  /** A complaint case's `case.resolved` by the complaint's id (its `complaintId`; the entry's subject is the case). */
  readonly complaintsResolved: Map<string, Payload>;
  /**
   * A note's entry by the note's id (case.note, or the case.moved, case.resolved, case.outcome_failed or refused
   * change that wrote it), its commitment (or older text) as `textHmac` (`text`), its author as `by`.
   */
  readonly notes: Map<string, Payload>;
  /** By case: how many notes its entries written before they named their notes may have written (checkCaseNotes). */
  readonly unnamedNotesAllowed: Map<string, number>;
  /** `line.action` by the action's id (the entry's id). */
  readonly lineActions: Map<string, Payload>;
  /** A reviewer's approval (`application.reviewed` with a line) by the line it granted. */
  readonly reviewedGrants: Map<string, Payload>;
  /** A pending change's entries by the change's id. */
  readonly changes: Map<string, ChangeEntries>;
  readonly lineEvents: Map<string, Payload[]>;
  readonly loans: Map<string, Payload>;
  readonly repayments: Map<string, Payload[]>;
  readonly buckets: Map<string, string>;
}

/** A pending change's entries: proposed, then at most one way it was settled (an approval may then fail). */
interface ChangeEntries {
  proposed?: Payload;
  approved?: Payload;
  rejected?: Payload;
  expired?: Payload;
  failed?: Payload;
}

const CHANGE_ENTRIES: ReadonlyMap<string, keyof ChangeEntries> = new Map([
  ['change.proposed', 'proposed'],
  ['change.approved', 'approved'],
  ['change.rejected', 'rejected'],
  ['change.expired', 'expired'],
  ['change.failed', 'failed'],
]);

function indexLedger(rows: readonly LedgerRow[]): LedgerIndex {
  const index: LedgerIndex = {
    decisions: new Map(),
    disputes: new Map(),
    disputeDecisions: new Map(),
    submissionsSent: new Map(),
    appealsFiled: new Map(),
    appealsDecided: new Map(),
    complaintsFiled: new Map(),
    complaintsExtended: new Map(),
    complaintsResolved: new Map(),
    notes: new Map(),
    unnamedNotesAllowed: new Map(),
    lineActions: new Map(),
    reviewedGrants: new Map(),
    changes: new Map(),
    lineEvents: new Map(),
    loans: new Map(),
    repayments: new Map(),
    buckets: new Map(),
  };
  const push = (map: Map<string, Payload[]>, key: string, value: Payload) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const row of rows) {
    const payload = parsePayload(row.payload);
    if (!payload) continue;
    const changeEntry = CHANGE_ENTRIES.get(row.kind);
    if (changeEntry) {
      const entries = index.changes.get(row.subject_id) ?? {};
      entries[changeEntry] = payload;
      index.changes.set(row.subject_id, entries);
      continue;
    }
    switch (row.kind) {
      case 'decision':
        index.decisions.set(row.entry_id, payload);
        break;
      case 'credit_dispute.raised':
        index.disputes.set(row.subject_id, payload);
        break;
      case 'credit_dispute.decided':
        index.disputeDecisions.set(row.subject_id, payload);
        break;
      case 'bureau.submission_sent':
        index.submissionsSent.set(String(payload.submissionId), { ...payload, subjectId: row.subject_id });
        break;
      case 'appeal.filed':
        index.appealsFiled.set(row.subject_id, payload);
        break;
      case 'appeal.decided':
        index.appealsDecided.set(row.subject_id, payload);
        break;
      case 'complaint.filed':
        index.complaintsFiled.set(row.subject_id, payload);
        break;
      case 'complaint.extended':
        index.complaintsExtended.set(row.subject_id, payload);
        break;

      case 'case.note':
        if (typeof payload.noteId === 'string') index.notes.set(payload.noteId, payload);
        break;
      case 'case.moved':
      case 'case.resolved':
        if (payload.type === 'COMPLAINT' && typeof payload.complaintId === 'string')
          index.complaintsResolved.set(payload.complaintId, payload);
        indexStepNote(index, row, payload);
        break;
      case 'case.outcome_failed':
      case 'case.change_rejected':
      case 'case.change_expired':
      case 'case.change_failed':
        indexStepNote(index, row, payload);
        break;
      case 'application.reviewed':
        if (typeof payload.lineId === 'string') index.reviewedGrants.set(payload.lineId, payload);
        break;
      case 'line.action':
        index.lineActions.set(row.entry_id, payload);
        push(index.lineEvents, row.subject_id, { ...payload, kind: row.kind });
        break;
      case 'line.temp_limit_expired':
        push(index.lineEvents, row.subject_id, { ...payload, kind: row.kind });
        break;
      case 'loan.disbursed':
        index.loans.set(row.subject_id, payload);
        push(index.lineEvents, String(payload.lineId), { ...payload, kind: row.kind });
        break;
      case 'loan.repayment':
        push(index.repayments, row.subject_id, payload);
        push(index.lineEvents, String(payload.lineId), { ...payload, kind: row.kind });
        break;
      case 'loan.bucket':
        index.buckets.set(row.subject_id, String(payload.to));
        break;
    }
  }
  return index;
}

/** The case steps that write a note beside them, and the fields that name it (refusals: `noteHmac` is the checker's). */
const STEP_NOTES: ReadonlyMap<
  string,
  { readonly id: string; readonly hmac: string; readonly author?: string }
> = new Map([
  ['case.moved', { id: 'noteId', hmac: 'noteHmac' }],
  ['case.resolved', { id: 'noteId', hmac: 'noteHmac' }],
  // The system writes these notes (src/cases/outcomes.ts), whoever took the step.
  ['case.outcome_failed', { id: 'noteId', hmac: 'noteHmac', author: 'system' }],
  ['case.change_rejected', { id: 'caseNoteId', hmac: 'caseNoteHmac', author: 'system' }],
  ['case.change_expired', { id: 'caseNoteId', hmac: 'caseNoteHmac', author: 'system' }],
  ['case.change_failed', { id: 'caseNoteId', hmac: 'caseNoteHmac', author: 'system' }],
]);

/**
 * A case step's note: named (its id and commitment) by entries written since steps named their notes; an older entry
 * (no naming field at all; a move: its text in clear) may have written one note no entry names, and allows it.
 * A step that wrote no note says so with a null id (a move: `note: null`).
 */
function indexStepNote(index: LedgerIndex, row: LedgerRow, payload: Payload): void {
  const fields = STEP_NOTES.get(row.kind);
  if (!fields) return;
  const id = payload[fields.id];
  if (typeof id === 'string') {
    const author = fields.author === undefined ? {} : { by: fields.author };
    index.notes.set(id, { ...payload, ...author, textHmac: payload[fields.hmac] });
    return;
  }
  const older = row.kind === 'case.moved' ? typeof payload.note === 'string' : !(fields.id in payload);
  if (older)
    index.unnamedNotesAllowed.set(row.subject_id, (index.unnamedNotesAllowed.get(row.subject_id) ?? 0) + 1);
}

function parsePayload(text: string): Payload | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Payload) : null;
  } catch {
    return null;
  }
}

type Where = Pick<FactMismatch, 'table' | 'id'>;

class Findings {
  readonly list: FactMismatch[] = [];
  more = 0;
  sealedUnchecked = 0;
  withoutCommitment = 0;
  unrecordedNotes = 0;
  readonly unverifiable: UnverifiableFact[] = [];
  moreUnverifiable = 0;
  compare(where: Where, field: string, row: unknown, ledger: unknown): void {
    if (canonicalJson(row ?? null) === canonicalJson(ledger ?? null)) return;
    if (this.list.length < MISMATCHES_MAX) this.list.push({ ...where, field, row, ledger });
    else this.more += 1;
  }
  cannotProve(fact: UnverifiableFact): void {
    if (this.unverifiable.length < MISMATCHES_MAX) this.unverifiable.push(fact);
    else this.moreUnverifiable += 1;
  }
}

/** `crypto`: the data key(s) that open the sealed values; without it they are counted, not proven (see above). */
export async function verifyFacts(
  db: LedgerHandle,
  ledgerRows: readonly LedgerRow[],
  crypto?: FieldCrypto,
): Promise<FactVerification> {
  const index = indexLedger(ledgerRows);
  const findings = new Findings();
  const decisions = await checkDecisions(db, { index, findings, crypto });
  const lines = await checkLines(db, index, findings);
  const loans = await checkLoans(db, index, findings);
  const disputes = await checkDisputes(db, { index, findings, crypto });
  const submissions = await checkSubmissions(db, { index, findings, crypto });
  const appeals = await checkAppeals(db, { index, findings, crypto });
  const complaints = await checkComplaints(db, { index, findings, crypto });
  const notes = await checkCaseNotes(db, { index, findings, crypto });
  const changes = await checkChanges(db, { index, findings, crypto });
  const lineActions = await checkLineActionNotes(db, { index, findings, crypto });
  return {
    ok: findings.list.length === 0 && findings.unverifiable.length === 0,
    checked: {
      decisions,
      lines,
      loans,
      disputes,
      submissions,
      appeals,
      complaints,
      notes,
      changes,
      lineActions,
    },
    sealedUnchecked: findings.sealedUnchecked,
    withoutCommitment: findings.withoutCommitment,
    unrecordedNotes: findings.unrecordedNotes,
    mismatches: findings.list,
    moreMismatches: findings.more,
    unverifiable: findings.unverifiable,
    moreUnverifiable: findings.moreUnverifiable,
  };
}

async function pages<T extends { id: string }>(
  read: (afterId: string) => Promise<T[]>,
  visit: (row: T) => void,
): Promise<number> {
  let after = '';
  let count = 0;
  for (;;) {
    const page = await read(after);
    for (const row of page) visit(row);
    count += page.length;
    if (page.length < PAGE_ROWS) return count;
    after = (page[page.length - 1] as T).id;
  }
}

interface SealedCheck {
  readonly index: LedgerIndex;
  readonly findings: Findings;
  readonly crypto: FieldCrypto | undefined;
}

/** A row's stored (maybe sealed) value, and what its ledger entry committed to (shown when it cannot be opened). */
interface SealedValue {
  readonly where: Where;
  readonly field: string;
  readonly stored: string;
  readonly committed: unknown;
}

/**
 * Opens a row's value to prove it (a clear one is taken as it is), or records why it cannot be proven here and answers
 * undefined: no data key given (unchecked), its key not held (unverifiable), a held key fails to open it (a mismatch).
 * The one place the fact check tells these apart (see the top of this file).
 */
function openToProve<T>(
  check: SealedCheck,
  value: SealedValue,
  open: (crypto: FieldCrypto | undefined) => T,
): T | undefined {
  const { crypto, findings } = check;
  if (isSealedValue(value.stored)) {
    if (!crypto) {
      findings.sealedUnchecked += 1;
      return undefined;
    }
    const keyId = keyNotHeld(crypto, value.stored);
    if (keyId !== undefined) {
      findings.cannotProve({ ...value.where, field: value.field, keyId });
      return undefined;
    }
  }
  try {
    return open(crypto);
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    findings.compare(value.where, value.field, '(sealed, cannot be opened)', value.committed);
    return undefined;
  }
}

/** The key id a token names when `crypto` does not hold it; undefined when it does (or the token is malformed). */
function keyNotHeld(crypto: FieldCrypto, token: string): string | undefined {
  let keyId: string;
  try {
    keyId = crypto.keyIdOf(token);
  } catch (error) {
    // A malformed token fails to open below, as the mismatch it is.
    if (error instanceof FieldCryptoError) return undefined;
    throw error;
  }
  return crypto.holdsKey(keyId) ? undefined : keyId;
}

async function checkDecisions(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const { index, findings } = check;
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().decisionsAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const where = { table: 'decisions', id: row.id } as const;
      const entry = index.decisions.get(row.id);
      if (!entry) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      const result = (parsePayload(row.result) ?? {}) as Payload;
      findings.compare(where, 'kind', row.kind, entry.decisionKind);
      findings.compare(where, 'borrower_id', row.borrower_id, entry.borrowerId);
      findings.compare(where, 'line_id', row.line_id, entry.lineId);
      findings.compare(where, 'strategy_id', row.strategy_id, entry.strategyId);
      findings.compare(where, 'strategy_version', Number(row.strategy_version), entry.strategyVersion);
      findings.compare(where, 'engine_version', row.engine_version, entry.engineVersion);
      findings.compare(where, 'outcome', row.outcome, entry.outcome);
      findings.compare(where, 'reasons', JSON.parse(row.reasons) as unknown, entry.reasons);
      checkDecisionContext(check, row, entry);
      findings.compare(where, 'result.limitMinor', result.limitMinor ?? null, entry.limitMinor);
      findings.compare(where, 'result.annualRate', result.annualRate ?? null, entry.annualRate);
      findings.compare(where, 'result.actions', result.actions ?? [], entry.actions);
    },
  );
  // A decision in the ledger whose row is gone was deleted from the table the API serves.
  for (const id of index.decisions.keys())
    if (!seen.has(id)) findings.compare({ table: 'decisions', id }, '(row)', 'missing', 'present');
  return count;
}

/**
 * The context as decided against what the ledger committed to: the keyed commitment of a sealed context (`contextHmac`),
 * or the SHA-256 of the clear context in an entry written before sealing (`contextSha256`), whichever way the row keeps
 * it now. A context that cannot be opened with the key given, or is clear where the ledger committed to a sealed one,
 * disagrees.
 */
function checkDecisionContext(check: SealedCheck, row: DecisionFactRecord, entry: Payload): void {
  const where = { table: 'decisions', id: row.id } as const;
  const committed = entry.contextHmac ?? entry.contextSha256;
  const opened = openToProve(check, { where, field: 'context', stored: row.context, committed }, (crypto) =>
    openDecision(crypto, { id: row.id, context: row.context, trace: row.trace }),
  );
  if (!opened) return;
  const proof =
    entry.contextHmac === undefined
      ? sha256Hex(opened.context)
      : (opened.commitment ?? '(clear, the ledger committed to a sealed context)');
  check.findings.compare(where, 'context', proof, committed);
}

async function checkDisputes(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const { index, findings } = check;
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().disputesAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const where = { table: 'credit_disputes', id: row.id } as const;
      const entry = index.disputes.get(row.id);
      if (!entry) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      findings.compare(where, 'borrower_id', row.borrower_id, entry.borrowerId);
      findings.compare(where, 'target', { kind: row.target_kind, id: row.target_id }, entry.target);
      checkDisputeClaim(check, row, entry);
      checkDisputeOutcome(check, row, index.disputeDecisions.get(row.id));
    },
  );
  // A dispute in the ledger whose row is gone: the borrower's dispute, and how it ended, deleted from what is served.
  for (const id of new Set([...index.disputes.keys(), ...index.disputeDecisions.keys()]))
    if (!seen.has(id)) findings.compare({ table: 'credit_disputes', id }, '(row)', 'missing', 'present');
  return count;
}

/** The claim against the raised entry: its keyed commitment (`claimHmac`), or the claim itself in an older entry. */
function checkDisputeClaim(check: SealedCheck, row: DisputeFactRecord, entry: Payload): void {
  const where = { table: 'credit_disputes', id: row.id } as const;
  const committed = entry.claimHmac ?? entry.claim;
  const opened = openToProve(check, { where, field: 'claim', stored: row.claim, committed }, (crypto) =>
    openDispute(crypto, row),
  );
  if (!opened) return;
  if (entry.claimHmac === undefined)
    return check.findings.compare(where, 'claim', parsePayload(opened.claim), entry.claim);
  check.findings.compare(
    where,
    'claim',
    opened.commitment ?? '(clear, the ledger committed to a sealed claim)',
    entry.claimHmac,
  );
}

/** What a report says in place of an outcome text an older entry holds: free text can name the borrower. */
const ENTRY_TEXTS = '(the texts the decided entry holds)';

/**
 * How the dispute ended against its decided entry (none: it is open, with no outcome): the state, the correction it
 * queued, and the reviewer's texts, proven by the entry's commitment to both (`outcomeHmac`; the English rides in the
 * Chinese text's token, outside the commitment only in an outcome sealed before riders were committed) or, in an entry
 * written before sealing, compared with the texts it holds (`textZh`, `textEn`), which a report then does not repeat.
 */
function checkDisputeOutcome(check: SealedCheck, row: DisputeFactRecord, decided: Payload | undefined): void {
  const where = { table: 'credit_disputes', id: row.id } as const;
  const { findings } = check;
  findings.compare(where, 'state', row.state, decided?.outcome ?? 'OPEN');
  findings.compare(where, 'correction_id', row.correction_id, decided?.correctionId ?? null);
  const committed = decided ? (decided.outcomeHmac ?? ENTRY_TEXTS) : null;
  // An open dispute has no outcome texts, and a decided one has them.
  if (row.outcome_zh === null || !decided)
    return findings.compare(where, 'outcome', row.outcome_zh === null ? null : '(texts)', committed);
  const opened = openToProve(
    check,
    { where, field: 'outcome', stored: row.outcome_zh, committed },
    (crypto) => openOutcomeTexts(crypto, row),
  );
  if (!opened) return;
  if (decided.outcomeHmac === undefined) {
    const same = opened.zh === decided.textZh && opened.en === decided.textEn;
    return findings.compare(where, 'outcome', same ? ENTRY_TEXTS : '(other texts)', ENTRY_TEXTS);
  }
  findings.compare(
    where,
    'outcome',
    opened.commitment ?? '(clear, the ledger committed to sealed texts)',
    decided.outcomeHmac,
  );
}

/**
 * Each submission against its `bureau.submission_sent` entry: a row is SENT exactly when the entry exists, and a sent
 * one reports what the entry says was sent. A queued (PENDING) one has no such entry yet, so its payload is proven once
 * it is sent.
 */
async function checkSubmissions(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const { index, findings } = check;
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().submissionsAfter(db, after, PAGE_ROWS),
    (row) => {
      const where = { table: 'bureau_submissions', id: row.id } as const;
      const sent = index.submissionsSent.get(row.id);
      findings.compare(where, 'status', row.status, sent ? 'SENT' : 'PENDING');
      if (!sent) return;
      seen.add(row.id);
      findings.compare(where, 'kind', row.kind, sent.kind);
      findings.compare(where, 'bureau', row.bureau, sent.bureau);
      findings.compare(where, 'borrower_id', row.borrower_id, sent.subjectId);
      checkSubmissionPayload(check, row, sent);
    },
  );
  // A sent submission whose row is gone: what was reported about the borrower, deleted.
  for (const id of index.submissionsSent.keys())
    if (!seen.has(id)) findings.compare({ table: 'bureau_submissions', id }, '(row)', 'missing', 'present');
  return count;
}

/** The payload against the sent entry: its keyed commitment (`payloadHmac`), or the payload itself in an older entry. */
function checkSubmissionPayload(check: SealedCheck, row: SubmissionFactRecord, sent: Payload): void {
  const where = { table: 'bureau_submissions', id: row.id } as const;
  const committed = sent.payloadHmac ?? sent.payload;
  const opened = openToProve(check, { where, field: 'payload', stored: row.payload, committed }, (crypto) =>
    openSubmissionRow(crypto, row),
  );
  if (!opened) return;
  if (sent.payloadHmac === undefined)
    return check.findings.compare(where, 'payload', parsePayload(opened.row.payload), sent.payload);
  check.findings.compare(
    where,
    'payload',
    opened.payloadHmac ?? '(clear, the ledger committed to a sealed payload)',
    sent.payloadHmac,
  );
}

/**
 * Each appeal against its appeal.filed entry (whose it is, what it is against, its deadline, its text) and its
 * appeal.decided entry: decided, with that entry's state and an outcome, exactly when the entry exists; open, with no
 * outcome, otherwise.
 */
async function checkAppeals(db: LedgerHandle, check: SealedCheck): Promise<number> {
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
function checkAppealDecision(check: SealedCheck, row: AppealFactRecord, decided: Payload | undefined): void {
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
async function checkComplaints(db: LedgerHandle, check: SealedCheck): Promise<number> {
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
const ENTRY_REASON = '(the reason the extended entry holds)';
const EXTENDED = '(extended)';

/**
 * The deadline (the filed one, or the extended entry's) and whether the complaint was extended, with its reason: proven
 * by the entry's commitment (`reasonHmac`), or, in an entry written before sealing, compared with the reason it holds.
 */
function checkExtension(
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

/** A sealed pair's columns as a row stores them, named as a report names them. */
interface PairValue {
  readonly where: Where;
  readonly field: string;
  readonly pair: SealedPair;
  readonly stored: StoredPair;
}

/**
 * A text an entry after the filing brings (an appeal's outcome, a complaint's extension reason or resolution): present
 * exactly when that entry exists, and then proven against the commitment the entry carries (proveCommitted).
 */
function checkLaterText(
  check: SealedCheck,
  value: Omit<PairValue, 'stored'> & { readonly committed: string | null; readonly rider: string | null },
  entry: { readonly commitment: unknown } | undefined,
): void {
  const { where, field, committed } = value;
  if (committed === null || !entry) {
    const recorded = entry ? (entry.commitment ?? '(a text, not committed)') : null;
    return check.findings.compare(where, field, committed === null ? null : '(a text)', recorded);
  }
  const stored = { committed, rider: value.rider ?? '' };
  proveCommitted(check, { where, field, pair: value.pair, stored }, entry.commitment);
}

/**
 * A text against the keyed commitment its entry carries. An entry written before the ledger committed to the text
 * carries none (and not the text): nothing proves it, so it is counted, not flagged.
 */
function proveCommitted(check: SealedCheck, value: PairValue, commitment: unknown): void {
  if (commitment === undefined) {
    check.findings.withoutCommitment += 1;
    return;
  }
  const { where, field, pair, stored } = value;
  const sealed = { where, field, stored: stored.committed, committed: commitment };
  const opened = openToProve(check, sealed, (crypto) => openPair(crypto, pair, where.id, stored));
  if (!opened) return;
  // A commitment key is random per seal: a clear row cannot be proven against one, and disagrees.
  const proof = opened.commitment ?? `(clear, the ledger committed to a sealed ${field})`;
  check.findings.compare(where, field, proof, commitment);
}

/** What a report says for a text an older entry holds in clear (free text can name the borrower), and for another. */
interface HeldText {
  readonly says: string;
  readonly other: string;
}

/**
 * A text against the clear value an entry written before sealing holds (`agrees` compares them, opened): reported as
 * `held.says` when they agree, `held.other` when not, never as the texts.
 */
function proveHeld(
  check: SealedCheck,
  value: PairValue,
  held: HeldText,
  agrees: (opened: OpenedPair) => boolean,
): void {
  const { where, field, pair, stored } = value;
  const sealed = { where, field, stored: stored.committed, committed: held.says };
  const opened = openToProve(check, sealed, (crypto) => openPair(crypto, pair, where.id, stored));
  if (!opened) return;
  check.findings.compare(where, field, agrees(opened) ? held.says : held.other, held.says);
}

/** What a report shows for the text an older case.note entry holds. */
const ENTRY_NOTE_TEXT = { says: '(the text the note entry holds)', other: '(another text)' };

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
async function checkCaseNotes(db: LedgerHandle, check: SealedCheck): Promise<number> {
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
const ENTRY_REVIEW_NOTE = { says: '(the note the reviewed entry holds)', other: '(another note)' };

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
async function checkLineActionNotes(db: LedgerHandle, check: SealedCheck): Promise<number> {
  return pages(
    (after) => ledgerStorage().lineActionNotesAfter(db, after, PAGE_ROWS),
    (row) => {
      const entry = check.index.lineActions.get(row.id);
      // `noteHmac: null`: written since entries say "no note" outright; the row must hold none.
      if (entry?.noteHmac === null)
        return check.findings.compare(
          { table: 'line_actions', id: row.id },
          'note',
          row.note === null ? null : '(a text)',
          null,
        );
      const reviewed = row.type === 'GRANT' ? check.index.reviewedGrants.get(row.line_id) : undefined;
      const committed = entry?.noteHmac ?? reviewed?.noteHmac;
      if (reviewed?.noteHmac !== undefined && entry?.noteHmac !== undefined)
        check.findings.compare(
          { table: 'line_actions', id: row.id },
          'note (application.reviewed)',
          entry.noteHmac,
          reviewed.noteHmac,
        );
      if (typeof committed === 'string') return proveLineActionNote(check, row, committed);
      if (reviewed && 'note' in reviewed) return checkReviewedNote(check, row, reviewed.note);
      if (row.note !== null) check.findings.withoutCommitment += 1;
    },
  );
}

function proveLineActionNote(check: SealedCheck, row: LineActionNoteFactRecord, commitment: string): void {
  const where = { table: 'line_actions', id: row.id } as const;
  if (row.note === null) return check.findings.compare(where, 'note', null, commitment);
  const value = { where, field: 'note', pair: LINE_ACTION_NOTE, stored: { committed: row.note, rider: '' } };
  proveCommitted(check, value, commitment);
}

/** A reviewer's GRANT note against the clear note (or null) an application.reviewed entry written before sealing holds. */
function checkReviewedNote(check: SealedCheck, row: LineActionNoteFactRecord, held: unknown): void {
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
function changeState(entries: ChangeEntries): string {
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
async function checkChanges(db: LedgerHandle, check: SealedCheck): Promise<number> {
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
const ENTRY_DIFF = { says: '(the diff the proposed entry holds)', other: '(another diff)' };
const ENTRY_CHANGE_REASON = { says: '(the reason the proposed entry holds)', other: '(another reason)' };

/**
 * The payload (the diff riding) and the reason against the change.proposed entry's commitments (`payloadHmac`,
 * `reasonHmac`). An entry written before sealing holds the diff and the reason in clear, which are compared, and
 * nothing of the payload, which is counted.
 */
function checkProposal(check: SealedCheck, row: ChangeFactRecord, proposed: Payload): void {
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

/** Whether `text` is JSON whose canonical form is `canonical`. */
function sameJson(text: string, canonical: string): boolean {
  try {
    return canonicalJson(JSON.parse(text) as unknown) === canonical;
  } catch {
    return false;
  }
}

/** What a report shows for the checker's note an older change.approved or .rejected entry holds. */
const ENTRY_DECISION_NOTE = { says: '(the note the decided entry holds)', other: '(another note)' };

/**
 * The checker's note against the change.approved or .rejected entry (none while pending, expired, or failed before an
 * approval): a note exactly when the entry records one (`noteHmac`, null for none), then proven by that commitment; an
 * entry written before sealing holds the note (or null) in clear, which is compared.
 */
function checkDecisionNote(check: SealedCheck, row: ChangeFactRecord, decided: Payload | undefined): void {
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

interface DerivedLine {
  status: string | null;
  limitMinor: number | null;
  annualRate: number | null;
  outstandingMinor: number;
  expiredTo: number | null;
}

function deriveLine(events: readonly Payload[]): DerivedLine {
  const line: DerivedLine = {
    status: null,
    limitMinor: null,
    annualRate: null,
    outstandingMinor: 0,
    expiredTo: null,
  };
  for (const e of events) {
    if (e.kind === 'line.action' && e.outcome === 'APPLIED') {
      line.expiredTo = null;
      if (e.type === 'GRANT') {
        // The grant opens a PENDING line into ACTIVE (src/domain/line.ts).
        line.status = 'ACTIVE';
        line.limitMinor = Number(e.limitMinor);
        line.annualRate = Number(e.annualRate);
      } else {
        line.status = String(e.newStatus);
        line.limitMinor = Number(e.newLimitMinor);
        line.annualRate = Number(e.newAnnualRate);
      }
    } else if (e.kind === 'line.temp_limit_expired') {
      line.expiredTo = Number(e.to);
    } else if (e.kind === 'loan.disbursed') {
      line.outstandingMinor += Number(e.principalMinor);
    } else if (e.kind === 'loan.repayment') {
      line.outstandingMinor -= Number((e.allocated as Payload | undefined)?.principalMinor ?? 0);
    }
  }
  // An expired temporary limit falls back to the base limit, but never below what is owed (src/core/jobs.ts).
  if (line.expiredTo !== null) line.limitMinor = Math.max(line.expiredTo, line.outstandingMinor);
  return line;
}

async function checkLines(db: LedgerHandle, index: LedgerIndex, findings: Findings): Promise<number> {
  return pages(
    (after) => ledgerStorage().linesAfter(db, after, PAGE_ROWS),
    (row) => {
      const where = { table: 'credit_lines', id: row.id } as const;
      const events = index.lineEvents.get(row.id);
      if (!events) return findings.compare(where, '(ledger entries)', 'present', 'missing');
      const derived = deriveLine(events);
      findings.compare(where, 'status', row.status, derived.status);
      findings.compare(where, 'limit_minor', Number(row.limit_minor), derived.limitMinor);
      findings.compare(where, 'annual_rate', Number(row.annual_rate), derived.annualRate);
      findings.compare(where, 'outstanding_minor', Number(row.outstanding_minor), derived.outstandingMinor);
      // What the borrower may still draw follows from the three, by the domain's rule (src/domain/line.ts):
      // max(0, limit - outstanding) on a line that lends, 0 on one that does not.
      findings.compare(
        where,
        'available_minor',
        Number(row.available_minor),
        availableMinor({
          status: (derived.status ?? 'PENDING') as LineStatus,
          limitMinor: derived.limitMinor ?? 0,
          outstandingMinor: derived.outstandingMinor,
        }),
      );
    },
  );
}

async function checkLoans(db: LedgerHandle, index: LedgerIndex, findings: Findings): Promise<number> {
  const firstBucket = DEFAULT_BUCKETS[0]?.name ?? 'M0';
  return pages(
    (after) => ledgerStorage().loansAfter(db, after, PAGE_ROWS),
    (row) => {
      const where = { table: 'loans', id: row.id } as const;
      const entry = index.loans.get(row.id);
      if (!entry) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      const repaid = (index.repayments.get(row.id) ?? []).reduce(
        (sum, r) => sum + Number((r.allocated as Payload | undefined)?.principalMinor ?? 0),
        0,
      );
      const apr = (entry.apr ?? {}) as Payload;
      findings.compare(where, 'line_id', row.line_id, entry.lineId);
      findings.compare(where, 'principal_minor', Number(row.principal_minor), entry.principalMinor);
      findings.compare(where, 'currency', row.currency, entry.currency);
      findings.compare(where, 'annual_rate', Number(row.annual_rate), entry.annualRate);
      findings.compare(where, 'term_months', Number(row.term_months), entry.termMonths);
      findings.compare(where, 'method', row.method, entry.method);
      findings.compare(where, 'apr_us_regz', Number(row.apr_us_regz), apr.US_REGZ);
      findings.compare(where, 'apr_eu_ccd', Number(row.apr_eu_ccd), apr.EU_CCD);
      findings.compare(where, 'apr_cn_irr', Number(row.apr_cn_irr), apr.CN_IRR);
      findings.compare(
        where,
        'total_repayable_minor',
        Number(row.total_repayable_minor),
        entry.totalRepayableMinor,
      );
      findings.compare(
        where,
        'outstanding_principal_minor',
        Number(row.outstanding_principal_minor),
        Number(entry.principalMinor) - repaid,
      );
      findings.compare(where, 'bucket', row.bucket, index.buckets.get(row.id) ?? firstBucket);
    },
  );
}
