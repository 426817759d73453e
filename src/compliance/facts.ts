import { canonicalJson } from '../domain/index.js';
import { DEFAULT_BUCKETS } from '../domain/index.js';
import { availableMinor, type LineStatus } from '../domain/index.js';
import { sha256Hex } from '../domain/index.js';
import {
  ledgerStorage,
  type DecisionFactRecord,
  type DisputeFactRecord,
  type LedgerHandle,
} from './ledger.js';
import type { LedgerRow } from './ledger.js';
import { isSealedValue, type FieldCrypto } from './crypto.js';
import { openDecision } from './sealed-decisions.js';
import { openDispute } from './sealed-disputes.js';
import { isSealedDataUnreadable } from './sealed-pair.js';

/**
 * The facts the API serves (decisions, lines, loans) are re-derived from the ledger and compared with their rows, so
 * an edit to a fact table — which leaves the hash chain intact — is still found. What the ledger does not carry
 * (e.g. a line's dpd, recomputed daily from the schedule) is not checked here.
 *
 * A decision's context and a dispute's claim are sealed at rest (sealed-decisions.ts, sealed-disputes.ts): with the data key
 * they are opened and proven against the ledger's commitment (or, for entries written before sealing, its hash or
 * clear claim); without it they are counted as `sealedUnchecked`, and everything else is still checked.
 */
export interface FactMismatch {
  readonly table: 'decisions' | 'credit_lines' | 'loans' | 'credit_disputes';
  readonly id: string;
  readonly field: string;
  readonly row: unknown;
  readonly ledger: unknown;
}

export interface FactVerification {
  readonly ok: boolean;
  readonly checked: {
    readonly decisions: number;
    readonly lines: number;
    readonly loans: number;
    readonly disputes: number;
  };
  /** Sealed contexts and claims that were not proven because no data key was given (see above). */
  readonly sealedUnchecked: number;
  readonly mismatches: FactMismatch[];
  /** Mismatches beyond the reported ones. */
  readonly moreMismatches: number;
}

const MISMATCHES_MAX = 200;
const PAGE_ROWS = 2000;

type Payload = Record<string, unknown>;

interface LedgerIndex {
  readonly decisions: Map<string, Payload>;
  readonly disputes: Map<string, Payload>;
  readonly lineEvents: Map<string, Payload[]>;
  readonly loans: Map<string, Payload>;
  readonly repayments: Map<string, Payload[]>;
  readonly buckets: Map<string, string>;
}

function indexLedger(rows: readonly LedgerRow[]): LedgerIndex {
  const index: LedgerIndex = {
    decisions: new Map(),
    disputes: new Map(),
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
    switch (row.kind) {
      case 'decision':
        index.decisions.set(row.entry_id, payload);
        break;
      case 'credit_dispute.raised':
        index.disputes.set(row.subject_id, payload);
        break;
      case 'line.action':
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

function parsePayload(text: string): Payload | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Payload) : null;
  } catch {
    return null;
  }
}

class Findings {
  readonly list: FactMismatch[] = [];
  more = 0;
  sealedUnchecked = 0;
  compare(where: Pick<FactMismatch, 'table' | 'id'>, field: string, row: unknown, ledger: unknown): void {
    if (canonicalJson(row ?? null) === canonicalJson(ledger ?? null)) return;
    if (this.list.length < MISMATCHES_MAX) this.list.push({ ...where, field, row, ledger });
    else this.more += 1;
  }
}

/** `crypto`: the data key(s) that open sealed contexts and claims; without it they are counted, not proven. */
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
  return {
    ok: findings.list.length === 0,
    checked: { decisions, lines, loans, disputes },
    sealedUnchecked: findings.sealedUnchecked,
    mismatches: findings.list,
    moreMismatches: findings.more,
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
  if (isSealedValue(row.context) && !check.crypto) {
    check.findings.sealedUnchecked += 1;
    return;
  }
  let opened: { context: string; commitment: string | undefined };
  try {
    opened = openDecision(check.crypto, { id: row.id, context: row.context, trace: row.trace });
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return check.findings.compare(where, 'context', '(sealed, cannot be opened)', committed);
  }
  const proof =
    entry.contextHmac === undefined
      ? sha256Hex(opened.context)
      : (opened.commitment ?? '(clear, the ledger committed to a sealed context)');
  check.findings.compare(where, 'context', proof, committed);
}

async function checkDisputes(db: LedgerHandle, check: SealedCheck): Promise<number> {
  const { index, findings } = check;
  return pages(
    (after) => ledgerStorage().disputesAfter(db, after, PAGE_ROWS),
    (row) => {
      const where = { table: 'credit_disputes', id: row.id } as const;
      const entry = index.disputes.get(row.id);
      if (!entry) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      findings.compare(where, 'borrower_id', row.borrower_id, entry.borrowerId);
      findings.compare(where, 'target', { kind: row.target_kind, id: row.target_id }, entry.target);
      checkDisputeClaim(check, row, entry);
    },
  );
}

/** The claim against the raised entry: its keyed commitment (`claimHmac`), or the claim itself in an older entry. */
function checkDisputeClaim(check: SealedCheck, row: DisputeFactRecord, entry: Payload): void {
  const where = { table: 'credit_disputes', id: row.id } as const;
  if (isSealedValue(row.claim) && !check.crypto) {
    check.findings.sealedUnchecked += 1;
    return;
  }
  let opened: { claim: string; commitment: string | undefined };
  try {
    opened = openDispute(check.crypto, row);
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return check.findings.compare(
      where,
      'claim',
      '(sealed, cannot be opened)',
      entry.claimHmac ?? entry.claim,
    );
  }
  if (entry.claimHmac === undefined)
    return check.findings.compare(where, 'claim', parsePayload(opened.claim), entry.claim);
  check.findings.compare(
    where,
    'claim',
    opened.commitment ?? '(clear, the ledger committed to a sealed claim)',
    entry.claimHmac,
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
