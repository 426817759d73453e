import { canonicalJson } from '../domain/index.js';
import type { LedgerRow } from './ledger.js';
import { FieldCryptoError, isSealedValue, type FieldCrypto } from './crypto.js';
import {
  isSealedDataUnreadable,
  openPair,
  type OpenedPair,
  type SealedPair,
  type StoredPair,
} from './sealed-pair.js';

/**
 * The fact check's machinery (facts.ts): the ledger indexed by subject, the findings and how a sealed value is proven
 * against the commitment its entry holds (or the clear value an older entry holds), or why it cannot be.
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
  | 'line_actions'
  | 'consents'
  | 'bureau_inquiries';

/** A sealed value no key given opens because its key (`keyId`) is not among them. */
export interface UnverifiableFact {
  readonly table: FactTable;
  readonly id: string;
  readonly field: string;
  readonly keyId: string;
}

export const MISMATCHES_MAX = 200;
export const PAGE_ROWS = 2000;

export type Payload = Record<string, unknown>;

export interface LedgerIndex {
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
  /** `consent.granted` by consent id, with the entry's time as `recordedAt`. */
  readonly consents: Map<string, Payload>;
  /** `consent.withdrawn` by consent id, with the entry's time as `recordedAt`. */
  readonly consentWithdrawals: Map<string, Payload>;
  /** `bureau.inquiry` by inquiry id, with the entry's time as `recordedAt`. */
  readonly inquiries: Map<string, Payload>;
  /** The lookup hash each `subject.rekeyed` entry moved a subject's rows to, by the hash they left (the latest move). */
  readonly rekeyedTo: Map<string, string>;
  /**
   * Borrowers named by `subject.rekeyed` entries written before they named their moves: their consents' and inquiries'
   * hashes may have moved with nothing to say to which.
   */
  readonly rekeyedUnnamed: Set<string>;
}

/** A pending change's entries: proposed, then at most one way it was settled (an approval may then fail). */
export interface ChangeEntries {
  proposed?: Payload;
  approved?: Payload;
  rejected?: Payload;
  expired?: Payload;
  failed?: Payload;
}

export const CHANGE_ENTRIES: ReadonlyMap<string, keyof ChangeEntries> = new Map([
  ['change.proposed', 'proposed'],
  ['change.approved', 'approved'],
  ['change.rejected', 'rejected'],
  ['change.expired', 'expired'],
  ['change.failed', 'failed'],
]);

export function indexLedger(rows: readonly LedgerRow[]): LedgerIndex {
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
    consents: new Map(),
    consentWithdrawals: new Map(),
    inquiries: new Map(),
    rekeyedTo: new Map(),
    rekeyedUnnamed: new Set(),
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
      case 'consent.granted':
        index.consents.set(String(payload.consentId), { ...payload, recordedAt: Number(row.recorded_at) });
        break;
      case 'consent.withdrawn':
        index.consentWithdrawals.set(String(payload.consentId), {
          ...payload,
          recordedAt: Number(row.recorded_at),
        });
        break;
      case 'bureau.inquiry':
        index.inquiries.set(String(payload.inquiryId), { ...payload, recordedAt: Number(row.recorded_at) });
        break;
      case 'subject.rekeyed':
        indexRekey(index, payload);
        break;
    }
  }
  return index;
}

/** A re-keying's moves (from every former hash to the current one), or its borrowers when it predates naming them. */
function indexRekey(index: LedgerIndex, payload: Payload): void {
  if (!Array.isArray(payload.moves)) {
    for (const id of Array.isArray(payload.borrowerIds) ? payload.borrowerIds : [])
      index.rekeyedUnnamed.add(String(id));
    return;
  }
  for (const move of payload.moves as { from?: unknown; to?: unknown }[]) {
    if (typeof move.to !== 'string' || !Array.isArray(move.from)) continue;
    for (const from of move.from) if (typeof from === 'string') index.rekeyedTo.set(from, move.to);
  }
}

/** The hash rows an entry names by `hash` hold now: followed through every re-keying since (at most one per key). */
export function rekeyedHash(index: LedgerIndex, hash: string): string {
  let current = hash;
  // Bounded: a re-keying moves to the current key's hash, so a chain is no longer than the keys ever held.
  for (let step = 0; step <= index.rekeyedTo.size; step++) {
    const next = index.rekeyedTo.get(current);
    if (next === undefined || next === current) return current;
    current = next;
  }
  return current;
}

/** The case steps that write a note beside them, and the fields that name it (refusals: `noteHmac` is the checker's). */
export const STEP_NOTES: ReadonlyMap<
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
export function indexStepNote(index: LedgerIndex, row: LedgerRow, payload: Payload): void {
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

export function parsePayload(text: string): Payload | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Payload) : null;
  } catch {
    return null;
  }
}

export type Where = Pick<FactMismatch, 'table' | 'id'>;

export class Findings {
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

export async function pages<T extends { id: string }>(
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

export interface SealedCheck {
  readonly index: LedgerIndex;
  readonly findings: Findings;
  readonly crypto: FieldCrypto | undefined;
}

/** A row's stored (maybe sealed) value, and what its ledger entry committed to (shown when it cannot be opened). */
export interface SealedValue {
  readonly where: Where;
  readonly field: string;
  readonly stored: string;
  readonly committed: unknown;
}

/**
 * Opens a row's value to prove it (a clear one is taken as it is), or records why it cannot be proven here and answers
 * undefined: no data key given (unchecked), its key not held (unverifiable), a held key fails to open it (a mismatch).
 * The one place the fact check tells these apart (see the top of facts.ts).
 */
export function openToProve<T>(
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
export function keyNotHeld(crypto: FieldCrypto, token: string): string | undefined {
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

/** A sealed pair's columns as a row stores them, named as a report names them. */
export interface PairValue {
  readonly where: Where;
  readonly field: string;
  readonly pair: SealedPair;
  readonly stored: StoredPair;
}

/**
 * A text an entry after the filing brings (an appeal's outcome, a complaint's extension reason or resolution): present
 * exactly when that entry exists, and then proven against the commitment the entry carries (proveCommitted).
 */
export function checkLaterText(
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
export function proveCommitted(check: SealedCheck, value: PairValue, commitment: unknown): void {
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
export interface HeldText {
  readonly says: string;
  readonly other: string;
}

/**
 * A text against the clear value an entry written before sealing holds (`agrees` compares them, opened): reported as
 * `held.says` when they agree, `held.other` when not, never as the texts.
 */
export function proveHeld(
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

/** Whether `text` is JSON whose canonical form is `canonical`. */
export function sameJson(text: string, canonical: string): boolean {
  try {
    return canonicalJson(JSON.parse(text) as unknown) === canonical;
  } catch {
    return false;
  }
}
