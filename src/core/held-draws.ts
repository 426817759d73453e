import type { Decision } from '../domain/index.js';
import { LgError, instantAfter } from '../domain/index.js';
import { drawRefusal, type LineStatus } from '../domain/index.js';
import type { RepaymentMethod } from '../domain/index.js';
import {
  appendToLedger,
  openDecisionResult,
  openDrawOrigin,
  type LedgerAppend,
} from '../compliance/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import {
  bookLoan,
  disbursementEvent,
  drawCapError,
  drawListFacts,
  decidedLoan,
  loanDisbursedPayload,
  type DrawInput,
  type DrawRequest,
} from './draws.js';
import { allInOf, priceLoan, withinCap, type Priced } from './pricing.js';
import { drawHardDeclines, type ListFacts } from './hard-rules.js';
import { checkConcentrationInUnit, concentrationLimitInUnit } from './partners.js';
import { assertMatchesQuote, citedQuote } from './quotes.js';
import type { BookedLoan } from './ports.js';
import type { DrawRow, LineRow } from './ports.js';

/**
 * Draws the draw strategy did not let through at once: held (HOLD, REVIEW), waiting on step-up verification
 * (CHALLENGE) or delayed (COOLDOWN). A person (or the cooling-off job) releases or cancels them; a release goes through
 * the same hard rules a new draw meets, as they stand at the moment of release — the line may have been frozen since.
 */
export const HELD_DRAW_STATUSES = ['HOLD', 'REVIEW', 'CHALLENGE', 'COOLDOWN'] as const;
export type HeldDrawStatus = (typeof HELD_DRAW_STATUSES)[number];

export function isHeldStatus(status: string): status is HeldDrawStatus {
  return (HELD_DRAW_STATUSES as readonly string[]).includes(status);
}

export interface HeldDrawView {
  readonly drawId: string;
  readonly lineId: string;
  readonly borrowerId: string;
  readonly status: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly reasons: string[];
  readonly decisionId: string;
  readonly loanId: string | null;
  readonly createdAt: string;
}

export function heldDrawView(row: DrawRow): HeldDrawView {
  return {
    drawId: row.id,
    lineId: row.line_id,
    borrowerId: row.borrower_id,
    status: row.status,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    reasons: JSON.parse(row.reasons) as string[],
    decisionId: row.decision_id,
    loanId: row.loan_id,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/** The draw, locked for the rest of the caller's transaction. */
export async function findDraw(deps: CoreDeps, tx: UnitTx, id: string): Promise<DrawRow> {
  const row = await deps.coreStore.lockDrawInTx(tx, id);
  if (!row) throw new LgError('LG_NOT_FOUND', `no draw ${id}`, { drawId: id });
  return row;
}

function requireHeld(row: DrawRow, allowed: readonly string[] = HELD_DRAW_STATUSES): void {
  if (!allowed.includes(row.status))
    throw new LgError('LG_DRAW_NOT_HELD', `the draw is ${row.status}, not held`, {
      drawId: row.id,
      status: row.status,
    });
}

/** The strategy's pricing as it decided the draw (rate, fees); a decision without them prices at the line's rate. */
async function originalDecision(deps: CoreDeps, tx: UnitTx, decisionId: string): Promise<Decision> {
  const stored = await deps.coreStore.decisionResultInTx(tx, decisionId);
  // Sealed (a decision stored before results were sealed: in clear); one no held key opens refuses the release.
  const result =
    stored === undefined ? undefined : openDecisionResult(deps.crypto, decisionId, stored).result;
  const parsed = result === undefined ? {} : (JSON.parse(result) as Partial<Decision>);
  return {
    strategyId: 'draw',
    outcome: 'APPROVE',
    reasons: [],
    actions: [],
    values: parsed.values ?? {},
    ...(typeof parsed.annualRate === 'number' ? { annualRate: parsed.annualRate } : {}),
  } as unknown as Decision;
}

/** Compare-and-set on the draw's status: two people (or a person and the job) can never release one draw twice. */
async function moveDraw(
  deps: CoreDeps,
  tx: UnitTx,
  row: DrawRow,
  to: { status: string; loanId?: string },
): Promise<void> {
  const moved = await deps.coreStore.moveDrawInTx(tx, {
    id: row.id,
    from: row.status,
    to: to.status,
    loanId: to.loanId ?? null,
  });
  if (!moved)
    throw new LgError('LG_CONFLICT', 'the draw changed meanwhile; read it again', { drawId: row.id });
}

export interface ReleaseResult {
  readonly drawId: string;
  readonly loanId: string;
  readonly amountMinor: number;
}

/**
 * Releases a held draw inside the caller's dbTx: judged under the draw's and the line's locks as it stands now
 * (judgeRelease: the line lends and has the credit, the hard rules, the partner's share, the quote, the APR cap), then
 * the conditional debit, the loan, its schedule, the ledger entries and the disbursement event, exactly as an
 * approved draw writes them.
 */
export async function releaseHeldDrawInTx(
  deps: CoreDeps,
  tx: UnitTx,
  drawId: string,
  by: { actor: string; allowed?: readonly string[] },
): Promise<ReleaseResult> {
  const draw = await findDraw(deps, tx, drawId);
  requireHeld(draw, by.allowed);
  const line = await deps.coreStore.lineInTx(tx, draw.line_id, true);
  return releaseLockedDraw(deps, tx, { draw, line }, by.actor);
}

/** The release itself, of a held draw the caller read under its lock and its line's, in the same dbTx. */
async function releaseLockedDraw(
  deps: CoreDeps,
  tx: UnitTx,
  locked: { draw: DrawRow; line: LineRow },
  actor: string,
): Promise<ReleaseResult> {
  const { draw, line } = locked;
  // The money leaves now, under the draw's and the line's locks: the loan's time is what the next draw's velocity reads
  // (a released draw counts from its release). Taken after the line's newest draw and loan (instantAfter), as a draw's
  // is after the line's newest draw: a release at a process whose clock lags used to book its loan before the line's
  // newest loan, where the next draw's cooling-off did not find it. The time is ordered, not corrected: a release
  // stamped after the newest row still reads a lagging clock when nothing was written on the line for longer than the
  // lag (as a draw at that process does).
  const now = instantAfter(deps.clock.now(), await deps.coreStore.newestDrawOrLoanAtInTx(tx, line.id));
  const { input, lists, priced } = await judgeRelease(deps, tx, { draw, line, now });
  const request: DrawRequest = {
    deps,
    input,
    monitored: {},
    lists,
    ids: { decision: draw.decision_id, draw: draw.id, loan: deps.ids.next(), event: deps.ids.next() },
    now,
  };
  const loan = bookLoan(request, line, priced);
  await deps.coreStore.writeInTx(
    tx,
    {
      debit: { lineId: line.id, amountMinor: loan.principalMinor, at: now },
      loan,
      ledger: releaseLedger(draw, loan, actor, now),
      outbox: [disbursementEvent(request, line, loan.id)],
    },
    () =>
      new LgError('LG_CONFLICT', 'the line changed while the draw was released; retry', { lineId: line.id }),
  );
  await moveDraw(deps, tx, draw, { status: 'APPROVED', loanId: loan.id });
  return { drawId: draw.id, loanId: loan.id, amountMinor: loan.principalMinor };
}

/**
 * Every check a release makes, in one place for the release and for the look before it is proposed
 * (checkHeldDrawReleaseInTx): the line takes it (status, credit, hard rules), the channel partner's share of the book
 * holds (read under the partner's lock), a draw that cited a quote books exactly the quote (a rate or fee changed
 * while it was held, or a later start date, is a 409: the borrower draws again on a new quote), and the all-in APR is
 * within the cap. Throws the release's own error; returns what the booking needs.
 */
async function judgeRelease(
  deps: CoreDeps,
  tx: UnitTx,
  at: { readonly draw: DrawRow; readonly line: LineRow; readonly now: number },
): Promise<{ input: DrawInput; lists: ListFacts; priced: Priced }> {
  const { draw, line, now } = at;
  const input = drawInputOf(deps, draw);
  const lists = await assertLineTakesRelease(deps, line, draw, input, now);
  await checkConcentrationInUnit(deps, tx, await concentrationLimitInUnit(deps, tx, line), input.amountMinor);
  const decision = await originalDecision(deps, tx, draw.decision_id);
  const priced = priceLoan(deps, line, decidedLoan(line, input, decision), now);
  assertMatchesQuote(await citedQuote(deps, tx, draw.quote_id), priced.schedule, priced.annualRate);
  // Over the cap, refused as the draw would be now: the same code, message and breakdown party by party.
  const allIn = allInOf(deps, line, priced);
  if (!withinCap(allIn)) throw drawCapError(allIn, { id: draw.id, decisionId: draw.decision_id });
  return { input, lists, priced };
}

/**
 * The draw as it was asked for, to be judged and booked again at release: its device, IP and payee opened (the lists
 * are checked with them again). One no held key opens answers LG_SEALED_DATA_UNREADABLE: never released unchecked.
 */
function drawInputOf(deps: CoreDeps, draw: DrawRow): DrawInput {
  return {
    amountMinor: Number(draw.amount_minor),
    currency: draw.currency,
    termMonths: Number(draw.term_months),
    method: draw.method as RepaymentMethod,
    ...(draw.purpose === null ? {} : { purpose: draw.purpose }),
    ...openDrawOrigin(deps.crypto, draw),
  };
}

/**
 * Refuses a release the line cannot take as it is: a status that does not lend (frozen, suspended, closed), less
 * credit available than the draw, or a hard rule that blocks it now (a list hit or arrears since the hold). Returns
 * the list facts read, which the booking carries.
 */
async function assertLineTakesRelease(
  deps: CoreDeps,
  line: LineRow,
  draw: DrawRow,
  input: DrawInput,
  now: number,
): Promise<ListFacts> {
  const refused = drawRefusal(line.status as LineStatus, input.amountMinor, Number(line.available_minor));
  if (refused) throw refused;
  // The hard rules hold at release as at the draw: a list hit or arrears since the hold block it now.
  const lists = await drawListFacts(deps, draw.line_id, input, now);
  const declines = drawHardDeclines(line, lists, deps.config);
  if (declines.length > 0)
    throw new LgError('LG_DRAW_DECLINED', 'a hard rule blocks the release now', { reasons: declines });
  return lists;
}

/**
 * Refuses, with the error the release itself would give, a release that could not apply now: the draw no longer held,
 * or any check the release makes (judgeRelease: the line, the hard rules, the partner's share, the quote, the APR
 * cap). Reads in the caller's dbTx with the draw's lock and without the line's (the partner's is taken where a
 * channel limits its share, as the release takes it), and writes nothing. A release that waits for a second person
 * is judged so before it is proposed, so a checker is never asked to approve what could only fail; releaseHeldDrawInTx
 * judges it again, under the line's lock, when it is applied (the line may have changed meanwhile).
 */
export async function checkHeldDrawReleaseInTx(deps: CoreDeps, tx: UnitTx, drawId: string): Promise<void> {
  const draw = await findDraw(deps, tx, drawId);
  requireHeld(draw);
  const line = await deps.coreStore.lineInTx(tx, draw.line_id, false);
  await judgeRelease(deps, tx, { draw, line, now: deps.clock.now() });
}

function releaseLedger(draw: DrawRow, loan: BookedLoan, actor: string, now: number): LedgerAppend[] {
  return [
    {
      entryId: `${draw.id}:released`,
      kind: 'draw.released',
      subjectId: draw.line_id,
      recordedAt: now,
      payload: { drawId: draw.id, fromStatus: draw.status, loanId: loan.id, by: actor },
    },
    {
      entryId: loan.id,
      kind: 'loan.disbursed',
      subjectId: loan.id,
      recordedAt: now,
      payload: { ...loanDisbursedPayload(loan), drawId: draw.id },
    },
  ];
}

/** Cancels a held draw (a person, the borrower during cooling-off, or a failed step-up); nothing was debited. */
export async function cancelHeldDrawInTx(
  deps: CoreDeps,
  tx: UnitTx,
  drawId: string,
  by: { actor: string; reasons: readonly string[]; allowed?: readonly string[] },
): Promise<{ drawId: string; status: 'CANCELLED' }> {
  const draw = await findDraw(deps, tx, drawId);
  requireHeld(draw, by.allowed);
  await moveDraw(deps, tx, draw, { status: 'CANCELLED' });
  await appendToLedger(tx, [
    {
      entryId: `${draw.id}:cancelled`,
      kind: 'draw.cancelled',
      subjectId: draw.line_id,
      recordedAt: deps.clock.now(),
      payload: { drawId: draw.id, fromStatus: draw.status, reasons: by.reasons, by: by.actor },
    },
  ]);
  return { drawId: draw.id, status: 'CANCELLED' };
}

/** A person or a newer signal stops a COOLDOWN draw: it becomes HOLD, which only a person releases. */
export async function stopCooldownInTx(
  deps: CoreDeps,
  tx: UnitTx,
  drawId: string,
  by: { actor: string; why: string },
): Promise<void> {
  const draw = await findDraw(deps, tx, drawId);
  requireHeld(draw, ['COOLDOWN']);
  await stopLockedCooldown(deps, tx, draw, by);
}

/** The stop itself, of a COOLDOWN draw the caller read under its lock in the same dbTx. */
async function stopLockedCooldown(
  deps: CoreDeps,
  tx: UnitTx,
  draw: DrawRow,
  by: { actor: string; why: string },
): Promise<void> {
  await moveDraw(deps, tx, draw, { status: 'HOLD' });
  await appendToLedger(tx, [
    {
      entryId: `${draw.id}:stopped:${deps.clock.now()}`,
      kind: 'draw.cooldown_stopped',
      subjectId: draw.line_id,
      recordedAt: deps.clock.now(),
      payload: { drawId: draw.id, why: by.why, by: by.actor },
    },
  ]);
}

export interface CooldownSweepResult {
  readonly released: string[];
  readonly stopped: string[];
  readonly failed: { drawId: string; code: string }[];
}

/**
 * Releases COOLDOWN draws whose cooling-off has ended (the 24-hour delayed-arrival practice for suspicious transfers,
 * PBoC Yinfa [2016] No. 261), unless a newer signal stopped them: the line is no longer ACTIVE, or an alert was raised
 * on the borrower after the draw. A stopped draw becomes HOLD and waits for a person. Each draw is its own unit.
 *
 * The list is read outside any lock and only says which draws to look at: each unit reads its draw once, under the
 * draw's lock and then its line's, and acts on that row alone. A draw that left its cooling-off after the list was read
 * (cancelled by the borrower, stopped by a person, released by another sweep) is then seen as it is and left alone —
 * neither released nor reported as a failure; one cancelled while its unit holds the lock waits and is refused
 * (test/core/cooling-off-sweep.test.ts).
 */
export async function releaseDueCooldowns(
  deps: CoreDeps,
  options: { coolingOffMs: number; batchMax?: number },
): Promise<CooldownSweepResult> {
  const now = deps.clock.now();
  const due = await deps.coreStore.dueCooldowns(now - options.coolingOffMs, options.batchMax ?? 500);
  const result: CooldownSweepResult = { released: [], stopped: [], failed: [] };
  for (const { id } of due) {
    try {
      const done = await deps.store.transaction((tx) => sweepOne(deps, tx, id));
      if (done === 'released') result.released.push(id);
      else if (done === 'stopped') result.stopped.push(id);
    } catch (error) {
      if (await refusedToPerson(deps, id, error)) result.stopped.push(id);
      else result.failed.push({ drawId: id, code: error instanceof LgError ? error.code : 'LG_INTERNAL' });
    }
  }
  return result;
}

/**
 * One due draw, in the caller's dbTx: read once under its lock and its line's, then released, or stopped for a newer
 * signal; 'moved' when it is no longer cooling off.
 */
async function sweepOne(
  deps: CoreDeps,
  tx: UnitTx,
  drawId: string,
): Promise<'released' | 'stopped' | 'moved'> {
  const draw = await findDraw(deps, tx, drawId);
  if (draw.status !== 'COOLDOWN') return 'moved';
  const line = await deps.coreStore.lineInTx(tx, draw.line_id, true);
  const stop = await newerSignal(deps, tx, { draw, line });
  if (stop === undefined) {
    await releaseLockedDraw(deps, tx, { draw, line }, 'job:cooling-off');
    return 'released';
  }
  await stopLockedCooldown(deps, tx, draw, { actor: 'job:cooling-off', why: stop });
  return 'stopped';
}

/**
 * A release the core refused for what the draw or its line now is (a 4xx: the credit no longer there, a hard rule, a
 * quote whose terms moved) will be refused again at every sweep, and booking it days later, when credit frees up,
 * would lend on a request the borrower made long before: the draw stops cooling off and waits for a person (HOLD,
 * which opens a HELD_DRAW case), with the refusal in its ledger entry. Anything else (the store unreachable) is left
 * for the next sweep. True when the draw was handed over.
 */
async function refusedToPerson(deps: CoreDeps, drawId: string, error: unknown): Promise<boolean> {
  if (!(error instanceof LgError) || error.status >= 500) return false;
  try {
    await deps.store.transaction((tx) =>
      stopCooldownInTx(deps, tx, drawId, {
        actor: 'job:cooling-off',
        why: `the release was refused: ${error.code}: ${error.message}`,
      }),
    );
    return true;
  } catch {
    // Moved meanwhile (cancelled by the borrower, released elsewhere): nothing to hand over.
    return false;
  }
}

/**
 * Why a due draw must not be released now, read in the release's own transaction under the draw's and its line's
 * locks (the order the release takes them): a restriction or an alert committed before them stops it, however long
 * the sweep waited for them; read before the transaction, an alert raised meanwhile let the money leave.
 */
async function newerSignal(
  deps: CoreDeps,
  tx: UnitTx,
  locked: { draw: DrawRow; line: LineRow },
): Promise<string | undefined> {
  const { draw, line } = locked;
  if (line.status !== 'ACTIVE') return `the line is ${line.status}`;
  // After the draw in commit order as well as by the clocks (store/core-held-draws.ts alertAfter): an alert raised
  // after the draw at a process whose clock lags is stamped before it.
  const alertId = await deps.coreStore.alertAfterInTx(tx, draw.borrower_id, {
    id: draw.id,
    createdAt: Number(draw.created_at),
  });
  return alertId === undefined ? undefined : `alert ${alertId} raised after the draw`;
}
