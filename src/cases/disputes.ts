import type { UnitGuard } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { disputeView, type DisputeView } from '../compliance/index.js';
import { openCaseInTx } from './intake.js';
import type { CaseDeps, CaseDisputePort } from './ports.js';
import { newCaseRow } from './rows.js';

/**
 * Credit-report disputes (异议) as cases: raising one records it (src/compliance keeps the record) and opens its
 * CREDIT_REPORT_DISPUTE case in one dbTx, with the 20-day SLA (征信业管理条例 Art. 25) running from the injected clock;
 * resolving the case decides the dispute (outcomes.ts): CORRECTED sends a correction to the bureau, REJECTED
 * records the reason given to the borrower.
 */
export interface RaiseDisputeInput {
  readonly borrowerId: string;
  readonly target: Parameters<CaseDisputePort['checkTarget']>[1];
  readonly text: string;
  /** 'borrower' (the borrower's own token) or the operator's actor id. */
  readonly raisedBy: string;
}

/** A dispute's record as the case hands it to compliance. */
type DisputeRecord = Parameters<CaseDisputePort['record']>[1];

function disputesOf(deps: CaseDeps): CaseDisputePort {
  const port = deps.disputes?.();
  if (!port) throw new LgError('LG_NOT_FOUND', 'credit-report disputes are not available here');
  return port;
}

export async function raiseDispute(
  deps: CaseDeps,
  input: RaiseDisputeInput,
  guard?: UnitGuard<DisputeView>,
): Promise<DisputeView> {
  const port = disputesOf(deps);
  const { lineId } = await port.checkTarget(input.borrowerId, input.target);
  const now = deps.clock.now();
  const id = deps.ids.next();
  const caseRow = newCaseRow(
    deps.ids.next(),
    { type: 'CREDIT_REPORT_DISPUTE', subjectId: id, lineId, borrowerId: input.borrowerId, since: now },
    deps.config.sla,
    now,
  );
  const claim = input.target.correctValue === undefined ? {} : { correctValue: input.target.correctValue };
  const record: DisputeRecord = {
    id,
    borrower_id: input.borrowerId,
    target_kind: input.target.kind,
    target_id: input.target.id,
    claim: JSON.stringify(claim),
    text: input.text,
    raised_by: input.raisedBy,
    case_id: caseRow.id,
    state: 'OPEN',
    due_at: caseRow.sla_due_at,
    outcome_zh: null,
    outcome_en: null,
    correction_id: null,
    created_at: now,
    resolved_at: null,
  };
  // The unit's value is the answer, so that a guard that says the response stores it with the key: the dispute as
  // recorded (its open key, compliance's guard against a second open dispute, is no part of the view).
  return deps.store.transaction(async (tx) => {
    await port.record(tx, record);
    await openCaseInTx(deps.rows, tx, caseRow);
    return disputeView({ ...record, open_key: null });
  }, guard);
}

/** The outcome of a CREDIT_REPORT_DISPUTE case, in the resolution's dbTx. */
export async function decideDispute(
  ctx: { deps: CaseDeps },
  tx: Parameters<CaseDisputePort['decide']>[0],
  row: { subject_id: string },
  input: { outcome: string; textZh?: string; textEn?: string },
  actor: string,
): Promise<Record<string, unknown>> {
  return disputesOf(ctx.deps).decide(tx, row.subject_id, {
    outcome: input.outcome === 'CORRECTED' ? 'CORRECTED' : 'REJECTED',
    textZh: input.textZh ?? '',
    textEn: input.textEn ?? '',
    actor,
  });
}

/** After a dispute case resolved: its correction leaves for the bureau (the daily job retries a failure). */
export async function afterDisputeResolved(deps: CaseDeps): Promise<void> {
  await deps
    .disputes?.()
    ?.flush()
    .catch(() => undefined);
}
