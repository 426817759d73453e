import { DEFAULT_BUCKETS } from '../domain/index.js';
import { availableMinor, type LineStatus } from '../domain/index.js';
import { sha256Hex } from '../domain/index.js';
import {
  ledgerStorage,
  type DecisionFactRecord,
  type DisputeFactRecord,
  type LedgerHandle,
  type SubmissionFactRecord,
} from './ledger.js';
import type { LedgerRow } from './ledger.js';
import { type FieldCrypto } from './crypto.js';
import { openDecision, openDecisionResult } from './sealed-decisions.js';
import { openDispute, openOutcomeTexts } from './sealed-disputes.js';
import { openSubmissionRow } from './sealed-submissions.js';

import {
  Findings,
  indexLedger,
  openToProve,
  pages,
  PAGE_ROWS,
  parsePayload,
  type FactMismatch,
  type LedgerIndex,
  type Payload,
  type SealedCheck,
  type UnverifiableFact,
} from './facts-proof.js';
import {
  checkAppeals,
  checkCaseNotes,
  checkChanges,
  checkComplaints,
  checkLineActions,
} from './facts-cases.js';
import { checkConsents, checkInquiries } from './facts-consents.js';

export type { FactMismatch, FactTable, UnverifiableFact } from './facts-proof.js';

/**
 * The facts the API serves (decisions, lines, loans, disputes, appeals, complaints, case notes, four-eyes pending
 * changes, consents to pull a credit report and the pulls asked for) and what was sent to the credit bureau are
 * re-derived from the ledger and compared with their rows, so an
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
    readonly consents: number;
    readonly inquiries: number;
  };
  /** Sealed values that were not proven because no data key was given (see above). */
  readonly sealedUnchecked: number;
  /**
   * Appeal and complaint texts, pending changes' payloads and line actions' notes whose entry predates the ledger's
   * commitments to them, and consents' and inquiries' subject hashes moved by a re-keying whose entry predates naming
   * its moves: nothing to prove them by.
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
  const lineActions = await checkLineActions(db, { index, findings, crypto });
  const consents = await checkConsents(db, index, findings);
  const inquiries = await checkInquiries(db, index, findings);
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
      consents,
      inquiries,
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
      findings.compare(where, 'kind', row.kind, entry.decisionKind);
      findings.compare(where, 'borrower_id', row.borrower_id, entry.borrowerId);
      findings.compare(where, 'line_id', row.line_id, entry.lineId);
      findings.compare(where, 'strategy_id', row.strategy_id, entry.strategyId);
      findings.compare(where, 'strategy_version', Number(row.strategy_version), entry.strategyVersion);
      findings.compare(where, 'engine_version', row.engine_version, entry.engineVersion);
      findings.compare(where, 'outcome', row.outcome, entry.outcome);
      findings.compare(where, 'reasons', JSON.parse(row.reasons) as unknown, entry.reasons);
      checkDecisionContext(check, row, entry);
      checkDecisionResult(check, row, entry);
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

/**
 * The result as decided: against the commitment its entry carries (`resultHmac`: the score and PD among its values
 * proven too), and its limit, rate and actions against the entry's clear copies. An entry written before results were
 * sealed carries no commitment: its result (in clear, or sealed since by `keys rotate-data`) is checked by those three.
 */
function checkDecisionResult(check: SealedCheck, row: DecisionFactRecord, entry: Payload): void {
  const { findings } = check;
  const where = { table: 'decisions', id: row.id } as const;
  const committed = entry.resultHmac;
  const sealed = { where, field: 'result', stored: row.result, committed: committed ?? '(a result)' };
  const opened = openToProve(check, sealed, (crypto) => openDecisionResult(crypto, row.id, row.result));
  if (!opened) return;
  if (committed !== undefined)
    findings.compare(
      where,
      'result',
      opened.commitment ?? '(clear, the ledger committed to a sealed result)',
      committed,
    );
  const result = (parsePayload(opened.result) ?? {}) as Payload;
  findings.compare(where, 'result.limitMinor', result.limitMinor ?? null, entry.limitMinor);
  findings.compare(where, 'result.annualRate', result.annualRate ?? null, entry.annualRate);
  findings.compare(where, 'result.actions', result.actions ?? [], entry.actions);
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
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().linesAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
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
  // A line the ledger records (its actions, its loans' disbursements and repayments) whose row is gone: the borrower's
  // line, with its limit and what they owe on it, deleted from what the API serves.
  for (const id of index.lineEvents.keys())
    if (!seen.has(id)) findings.compare({ table: 'credit_lines', id }, '(row)', 'missing', 'present');
  return count;
}

async function checkLoans(db: LedgerHandle, index: LedgerIndex, findings: Findings): Promise<number> {
  const firstBucket = DEFAULT_BUCKETS[0]?.name ?? 'M0';
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().loansAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
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
  // A disbursement in the ledger whose loan row is gone: money lent, deleted from what the API serves.
  for (const id of index.loans.keys())
    if (!seen.has(id)) findings.compare({ table: 'loans', id }, '(row)', 'missing', 'present');
  return count;
}
