import { LgError, type Clock, type IdGenerator } from '../domain/index.js';
import { BUREAU_ATTRIBUTES, isBureauAttribute, type CreditBureau } from './bureau.js';
import type { ComplianceStore, ComplianceTx, CreditDisputeRecord } from './ports.js';
import type { FieldCrypto } from './crypto.js';
import { isSealedDataUnreadable } from './sealed-pair.js';
import {
  claimIsSealed,
  openDisputeRow,
  openOutcome,
  resealDisputes,
  sealDisputeRow,
  sealOutcome,
  type DisputeResealResult,
} from './sealed-disputes.js';
import { sealSubmissionRow } from './sealed-submissions.js';

/**
 * Credit-report disputes (异议, 征信业管理条例 Art. 25): a borrower (or an operator for them) disputes an inquiry on
 * their file, a delinquency LineGuard reported, or an item of their report. The dispute opens a
 * CREDIT_REPORT_DISPUTE case (20 days); CORRECTED records a correction and sends it to the bureau through the
 * submissions outbox, REJECTED records the reason. Someone else's inquiry or notice is 404, never 403.
 */
export const DISPUTE_TARGET_KINDS = ['INQUIRY', 'DELINQUENCY_REPORT', 'REPORT_ITEM'] as const;
export type DisputeTargetKind = (typeof DISPUTE_TARGET_KINDS)[number];

export interface DisputeTarget {
  readonly kind: DisputeTargetKind;
  /** The inquiry id, the delinquency notice id, or the report item's name (existingDebtMinor, …). */
  readonly id: string;
  /** For a report item: the value the borrower says is right. */
  readonly correctValue?: number | boolean;
}

/** What the borrower claims: for a REPORT_ITEM the value they say is right; nothing more for the other kinds. */
export interface DisputeClaim {
  readonly correctValue?: number | boolean;
}

/** What a dispute shows besides the borrower's words and the reviewer's: all of it stored in clear. */
export interface DisputeHeader {
  readonly id: string;
  readonly caseId: string;
  readonly target: { readonly kind: string; readonly id: string };
  readonly state: string;
  readonly dueAt: string;
  readonly correctionId: string | null;
  readonly raisedBy: string;
  readonly createdAt: string;
  readonly resolvedAt: string | null;
}

export interface DisputeView extends DisputeHeader {
  readonly claim: DisputeClaim;
  readonly text: string;
  /** The reviewer's words once decided (sealed at rest: sealed-disputes.ts). */
  readonly outcome: { readonly zh: string | null; readonly en: string | null } | null;
}

/**
 * A dispute in a list whose sealed claim and text, or outcome, no data key held opens (LG_SEALED_DATA_UNREADABLE):
 * what is stored in clear, marked, without the claim, the text or the outcome.
 */
export interface UnreadableDisputeView extends DisputeHeader {
  readonly unreadable: true;
}

export type DisputeListItem = DisputeView | UnreadableDisputeView;

export interface DisputeDecision {
  readonly outcome: 'CORRECTED' | 'REJECTED';
  readonly textZh: string;
  readonly textEn: string;
  readonly actor: string;
}

export interface CreditDisputes {
  /** The target, checked to be the borrower's; the line it concerns, if any. */
  checkTarget(borrowerId: string, target: DisputeTarget): Promise<{ lineId: string | null }>;
  /** Records a dispute in the caller's dbTx (opaque here: the case is opened in the same one). */
  record(dbTx: unknown, row: Omit<CreditDisputeRecord, 'open_key'>): Promise<void>;
  decide(dbTx: unknown, disputeId: string, decision: DisputeDecision): Promise<Record<string, unknown>>;
  /** The borrower's disputes, newest first; one that cannot be opened is marked unreadable, never fails the list. */
  ofBorrower(borrowerId: string): Promise<DisputeListItem[]>;
  /** One dispute; with a borrower, only theirs (else 404). */
  get(id: string, borrowerId?: string): Promise<DisputeView>;
  /** `lineguard keys rotate-data`: every claim and text sealed under the current key (sealed-disputes.ts). */
  reseal(pageSize: number): Promise<DisputeResealResult>;
}

export interface CreditDisputeDeps {
  readonly store: ComplianceStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly bureau: CreditBureau;
  /** Seals and opens each dispute's claim, text and outcome (sealed-disputes.ts), and its correction (sealed-submissions.ts). */
  readonly crypto: FieldCrypto;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** What a stored dispute shows besides its claim and text (stored in clear: no key is needed to read it). */
function disputeHeader(row: CreditDisputeRecord): DisputeHeader {
  return {
    id: row.id,
    caseId: row.case_id,
    target: { kind: row.target_kind, id: row.target_id },
    state: row.state,
    dueAt: iso(row.due_at) as string,
    correctionId: row.correction_id,
    raisedBy: row.raised_by,
    createdAt: iso(row.created_at) as string,
    resolvedAt: iso(row.resolved_at),
  };
}

/**
 * A dispute as its borrower wrote it and its reviewer decided it: `row` holds the claim, text and outcome in clear
 * (openDispute, below, opens a stored one).
 */
export function disputeView(row: CreditDisputeRecord): DisputeView {
  return {
    ...disputeHeader(row),
    claim: JSON.parse(row.claim) as DisputeClaim,
    text: row.text,
    outcome:
      row.outcome_zh === null && row.outcome_en === null ? null : { zh: row.outcome_zh, en: row.outcome_en },
  };
}

/** A stored dispute with its claim, text and outcome opened; throws LG_SEALED_DATA_UNREADABLE when one cannot be. */
function openStored(crypto: FieldCrypto, row: CreditDisputeRecord): CreditDisputeRecord {
  return openOutcome(crypto, openDisputeRow(crypto, row));
}

/**
 * A stored dispute as a list shows it. One whose claim and text no held key opens is marked unreadable, as a case's
 * evidence marks a decision it cannot open: it failed the whole list (500), and the borrower and the analyst saw none
 * of their other disputes. Read on its own (get), it still answers LG_SEALED_DATA_UNREADABLE.
 */
function listedDispute(crypto: FieldCrypto, row: CreditDisputeRecord): DisputeListItem {
  try {
    return disputeView(openStored(crypto, row));
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { ...disputeHeader(row), unreadable: true };
  }
}

function notFound(kind: string, id: string): LgError {
  return new LgError('LG_NOT_FOUND', `no ${kind} '${id}' on your file`);
}

function checkReportItem(target: DisputeTarget): void {
  if (!isBureauAttribute(target.id)) throw notFound('report item', target.id);
  const value = target.correctValue;
  const ok =
    target.id === 'externalDelinquent'
      ? typeof value === 'boolean'
      : typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  if (!ok)
    throw new LgError(
      'LG_VALIDATION',
      `a dispute of ${target.id} states the right value: ${target.id === 'externalDelinquent' ? 'true or false' : 'an integer >= 0'}`,
      { items: BUREAU_ATTRIBUTES },
    );
}

/** What the bureau is asked to change when a dispute is upheld. */
function correctionOf(row: CreditDisputeRecord): Record<string, unknown> {
  const base = { disputeId: row.id, target: { kind: row.target_kind, id: row.target_id } };
  if (row.target_kind === 'REPORT_ITEM')
    return {
      ...base,
      item: row.target_id,
      value: (JSON.parse(row.claim) as { correctValue: unknown }).correctValue,
    };
  return { ...base, action: row.target_kind === 'INQUIRY' ? 'DELETE_INQUIRY' : 'WITHDRAW_DELINQUENCY' };
}

/**
 * The correction as the ledger records it for a dispute whose claim is sealed: the value the borrower claimed is the
 * claim the raised entry commits to (claimHmac), so it is not repeated here in clear.
 */
function withoutClaimedValue(correction: Record<string, unknown>): Record<string, unknown> {
  const { value: _claimed, ...rest } = correction;
  return rest;
}

export function createCreditDisputes(deps: CreditDisputeDeps): CreditDisputes {
  const txOf = (dbTx: unknown): ComplianceTx => deps.store.within(dbTx);

  return {
    checkTarget: (borrowerId, target) => checkDisputeTarget(deps.store, borrowerId, target),

    record: async (dbTx, row) => recordDispute(deps.crypto, txOf(dbTx), row),

    decide: async (dbTx, disputeId, decision) => decideDispute(deps, txOf(dbTx), { disputeId, decision }),

    async ofBorrower(borrowerId) {
      const rows = await deps.store.disputesOf(borrowerId, 200);
      return rows.map((row) => listedDispute(deps.crypto, row));
    },

    async get(id, borrowerId) {
      const row = await deps.store.findDispute(id);
      if (!row || (borrowerId !== undefined && row.borrower_id !== borrowerId))
        throw new LgError('LG_NOT_FOUND', `no dispute '${id}'`);
      return disputeView(openStored(deps.crypto, row));
    },

    reseal: (pageSize) => resealDisputes(deps.store, deps.crypto, pageSize),
  };
}

/** The target is the borrower's own (404 otherwise); a reported delinquency names its line. */
async function checkDisputeTarget(
  store: ComplianceStore,
  borrowerId: string,
  target: DisputeTarget,
): Promise<{ lineId: string | null }> {
  if (target.kind === 'REPORT_ITEM') {
    checkReportItem(target);
    return { lineId: null };
  }
  if (target.correctValue !== undefined)
    throw new LgError('LG_VALIDATION', 'correctValue is for a REPORT_ITEM dispute only');
  if (target.kind === 'INQUIRY') {
    const inquiry = await store.findInquiry(target.id);
    const hash = inquiry ? await store.nationalIdHashOf(borrowerId) : undefined;
    const theirs = inquiry && (inquiry.borrower_id === borrowerId || inquiry.subject_hash === hash);
    if (!theirs) throw notFound('inquiry', target.id);
    return { lineId: null };
  }
  const notice = await store.findNotice(target.id);
  if (!notice || notice.borrower_id !== borrowerId) throw notFound('reported delinquency', target.id);
  return { lineId: notice.line_id };
}

/**
 * Records the dispute (one open per target and borrower) with its ledger entry: the row keeps the claim and the text
 * sealed, and the entry commits to the claim (claimHmac) instead of holding it.
 */
async function recordDispute(
  crypto: FieldCrypto,
  tx: ComplianceTx,
  clear: Omit<CreditDisputeRecord, 'open_key'>,
): Promise<void> {
  const { row, claimHmac } = sealDisputeRow(crypto, clear);
  const openKey = `${row.target_kind}:${row.target_id}:${row.borrower_id}`;
  if (!(await tx.insertDispute({ ...row, open_key: openKey }))) {
    const open = await tx.openDisputeOn(row.target_kind, row.target_id, row.borrower_id);
    throw new LgError('LG_CONFLICT', 'a dispute about this is already open', { disputeId: open ?? null });
  }
  await tx.appendLedger([
    {
      entryId: `${row.id}:raised`,
      kind: 'credit_dispute.raised',
      subjectId: row.id,
      recordedAt: row.created_at,
      payload: {
        disputeId: row.id,
        borrowerId: row.borrower_id,
        target: { kind: row.target_kind, id: row.target_id },
        claimHmac,
        caseId: row.case_id,
        dueAt: row.due_at,
        raisedBy: row.raised_by,
      },
    },
  ]);
}

/** Settles the dispute once, queueing the bureau correction when it is upheld, with its ledger entry. */
async function decideDispute(
  deps: CreditDisputeDeps,
  tx: ComplianceTx,
  request: { disputeId: string; decision: DisputeDecision },
): Promise<Record<string, unknown>> {
  const { disputeId, decision } = request;
  const now = deps.clock.now();
  const stored = await tx.findDispute(disputeId);
  if (!stored) throw new LgError('LG_NOT_FOUND', `no dispute '${disputeId}'`);
  const row = openDisputeRow(deps.crypto, stored);
  let correctionId: string | null = null;
  let correction: Record<string, unknown> | null = null;
  if (decision.outcome === 'CORRECTED') {
    const subjectHash = await tx.nationalIdHashOf(row.borrower_id);
    if (!subjectHash) throw new LgError('LG_NOT_FOUND', `no borrower '${row.borrower_id}'`);
    correctionId = deps.ids.next();
    correction = correctionOf(row);
    await tx.insertSubmission(
      sealSubmissionRow(deps.crypto, {
        id: correctionId,
        kind: 'CORRECTION',
        subject_hash: subjectHash,
        borrower_id: row.borrower_id,
        bureau: deps.bureau.name,
        payload: JSON.stringify(correction),
        status: 'PENDING',
        created_at: now,
        sent_at: null,
      }),
    );
  }
  const { outcomeHmac, ...outcome } = sealOutcome(deps.crypto, disputeId, {
    zh: decision.textZh,
    en: decision.textEn,
  });
  const settled = await tx.settleDispute(disputeId, {
    state: decision.outcome,
    ...outcome,
    correction_id: correctionId,
    resolved_at: now,
    open_key: null,
  });
  if (!settled) throw new LgError('LG_CONFLICT', 'the dispute was already decided', { disputeId });
  await tx.appendLedger([
    {
      entryId: `${disputeId}:decided`,
      kind: 'credit_dispute.decided',
      subjectId: disputeId,
      recordedAt: now,
      payload: {
        disputeId,
        outcome: decision.outcome,
        by: decision.actor,
        // The reviewer's texts are sealed in the row (they can name the borrower): the entry holds the commitment to
        // the Chinese text, the English sealed beside it in the same token.
        outcomeHmac,
        correctionId,
        correction: correction && claimIsSealed(stored) ? withoutClaimedValue(correction) : correction,
        bureau: deps.bureau.name,
      },
    },
  ]);
  return { disputeId, correctionId };
}
