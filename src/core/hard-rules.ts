import type { CoreConfig, ListLookupHit, ListProbe, CoreDeps } from './deps.js';
import type { LineRow } from './ports.js';

/**
 * The core's hard rules: decline reasons that hold whatever the active strategy says (a strategy can be edited by a
 * risk analyst; these cannot). Each returns the reason codes it adds, most important first; none = no objection.
 */

/** A line this many days past due or more takes no new draw (M1 = 1-30 days; PBoC/CBIRC post-loan practice). */
export const DRAW_BLOCKED_FROM_DPD_DEFAULT = 1;

/** Maximum applicant age when the config names none (retirement age plus a typical line's term). */
export const MAX_BORROWER_AGE_DEFAULT = 65;

/** What the core looked up itself about the people and things behind a request (see ListLookup in deps.ts). */
export interface ListFacts {
  readonly blacklisted: boolean;
  readonly greylisted: boolean;
}

export const NO_LIST_FACTS: ListFacts = Object.freeze({ blacklisted: false, greylisted: false });

/** Hard rules over a draw: a delinquent line, a black-listed borrower, device, IP or payee. */
export function drawHardDeclines(line: LineRow, lists: ListFacts, config: CoreConfig): string[] {
  const reasons: string[] = [];
  if (lists.blacklisted) reasons.push('R_BLACKLIST');
  if (Number(line.dpd) >= (config.drawBlockedFromDpd ?? DRAW_BLOCKED_FROM_DPD_DEFAULT))
    reasons.push('R_DAYS_PAST_DUE');
  return reasons;
}

/** Hard rules over an application: a black-listed applicant, an applicant over the configured maximum age. */
export function applicationHardDeclines(age: number, lists: ListFacts, config: CoreConfig): string[] {
  const reasons: string[] = [];
  if (lists.blacklisted) reasons.push('R_BLACKLIST');
  if (age > maxBorrowerAge(config)) reasons.push('R_AGE_ABOVE_MAX');
  return reasons;
}

export function maxBorrowerAge(config: CoreConfig): number {
  return config.maxBorrowerAge ?? MAX_BORROWER_AGE_DEFAULT;
}

/** The hard reasons first, then the strategy's own (without repeating one). */
export function withHardReasons(hard: readonly string[], reasons: readonly string[]): string[] {
  return [...hard, ...reasons.filter((r) => !hard.includes(r))];
}

/** The list facts of a set of probes: looked up by the core itself, never taken from the caller. */
export async function lookUpLists(
  deps: Pick<CoreDeps, 'lists'>,
  probes: readonly ListProbe[],
  at: number,
): Promise<ListFacts> {
  if (!deps.lists || probes.length === 0) return NO_LIST_FACTS;
  return listFactsOf(await deps.lists.lookup(probes, at));
}

/** Which lists were hit, from the hits themselves or just the kinds of list (a draw's read under its lock). */
export function listFactsOf(hits: readonly Pick<ListLookupHit, 'list'>[]): ListFacts {
  return {
    blacklisted: hits.some((h) => h.list === 'black'),
    greylisted: hits.some((h) => h.list === 'grey'),
  };
}
