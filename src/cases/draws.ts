import type { UnitGuard } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import type { CaseTx } from './ports.js';
import { caseOpenedLedger } from './intake.js';
import type { CaseDeps } from './ports.js';
import { newCaseRow } from './rows.js';
import { caseStep } from './service.js';

/**
 * Held draws outside a case: the lender's backend reports a step-up result, the borrower cancels during the
 * cooling-off, a person stops a cooling-off draw.
 */
async function owner(deps: CaseDeps, drawId: string) {
  const found = await deps.core.drawOwner(drawId);
  if (!found) throw new LgError('LG_NOT_FOUND', `no draw ${drawId}`, { drawId });
  return found;
}

/** Resolves the draw's open case (if a timed-out challenge opened one) in the same dbTx as the draw's outcome. */
async function closeDrawCase(deps: CaseDeps, tx: CaseTx, drawId: string, outcome: string, actor: string) {
  const row = await deps.rows.findCaseBySubject(tx, 'HELD_DRAW', drawId);
  if (!row || row.state === 'RESOLVED') return;
  const now = deps.clock.now();
  await caseStep(deps, tx, row, {
    to: 'RESOLVED',
    kind: 'case.resolved',
    actor,
    // No note written: `noteId: null` says so (a case.resolved entry without the key predates named notes).
    detail: { outcome, drawId, withinSla: now <= Number(row.sla_due_at), noteId: null },
    patch: {
      resolved_at: now,
      resolved_by: actor,
      outcome,
      outcome_detail: JSON.stringify({ drawId, via: 'challenge' }),
    },
  });
}

/** What a step-up result did to its draw: released (with its loan) or cancelled (with the case it opened). */
export interface ChallengedDraw {
  readonly drawId: string;
  readonly status: string;
  readonly loanId?: string;
  readonly caseId?: string;
}

export async function challengeResult(
  deps: CaseDeps,
  drawId: string,
  input: { result: 'PASSED' | 'FAILED'; actor: string },
  guard?: UnitGuard<ChallengedDraw>,
): Promise<ChallengedDraw> {
  const draw = await owner(deps, drawId);
  if (draw.status !== 'CHALLENGE')
    throw new LgError('LG_DRAW_NOT_HELD', `the draw is ${draw.status}, not waiting on a challenge`, {
      drawId,
    });
  const now = deps.clock.now();
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    await appendToLedger(tx, [
      {
        entryId: `${drawId}:challenge`,
        kind: 'draw.challenge',
        subjectId: draw.lineId,
        recordedAt: now,
        payload: { drawId, result: input.result, by: input.actor },
      },
    ]);
    if (input.result === 'PASSED') {
      const released = await deps.core.releaseDraw(tx, drawId, input.actor, ['CHALLENGE']);
      await closeDrawCase(deps, tx, drawId, 'RELEASE', input.actor);
      return { drawId, status: 'APPROVED', loanId: released.loanId };
    }
    await deps.core.cancelDraw(tx, drawId, {
      actor: input.actor,
      reasons: ['R_IDENTITY_UNVERIFIED'],
      allowed: ['CHALLENGE'],
    });
    // A failed step-up is a fraud signal: a person looks at it (issue 11 "failed cancels and raises the case").
    const existing = await deps.rows.findCaseBySubject(tx, 'HELD_DRAW', drawId);
    if (existing) return { drawId, status: 'CANCELLED', caseId: existing.id };
    const row = newCaseRow(
      deps.ids.next(),
      { type: 'HELD_DRAW', subjectId: drawId, lineId: draw.lineId, borrowerId: draw.borrowerId, since: now },
      deps.config.sla,
      now,
    );
    await deps.rows.insertCases(tx, [row]);
    await appendToLedger(tx, [caseOpenedLedger(row)]);
    return { drawId, status: 'CANCELLED', caseId: row.id };
  }, guard);
}

/** The borrower cancels a draw during its cooling-off; another borrower's draw is 404. */
/** A draw the borrower cancelled in its cooling-off. */
export interface CancelledDraw {
  readonly drawId: string;
  readonly status: 'CANCELLED';
}

export async function borrowerCancelDraw(
  deps: CaseDeps,
  borrowerId: string,
  drawId: string,
  guard?: UnitGuard<CancelledDraw>,
): Promise<CancelledDraw> {
  const draw = await deps.core.drawOwner(drawId);
  if (!draw || draw.borrowerId !== borrowerId) throw new LgError('LG_NOT_FOUND', `no draw ${drawId}`);
  return deps.store.transaction(async (tx) => {
    await deps.core.cancelDraw(tx, drawId, {
      actor: `borrower:${borrowerId}`,
      reasons: ['R_BORROWER_REQUEST'],
      allowed: ['COOLDOWN'],
    });
    return { drawId, status: 'CANCELLED' } as const;
  }, guard);
}

/** A draw a person stopped in its cooling-off. */
export interface StoppedDraw {
  readonly drawId: string;
  readonly status: 'HOLD';
}

/** A person stops a cooling-off draw: it becomes HOLD and a held-draw case, released only by a person. */
export async function stopCooldown(
  deps: CaseDeps,
  drawId: string,
  input: { actor: string; why: string },
  guard?: UnitGuard<StoppedDraw>,
): Promise<StoppedDraw> {
  await owner(deps, drawId);
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    await deps.core.stopCooldown(tx, drawId, input);
    return { drawId, status: 'HOLD' } as const;
  }, guard);
}
