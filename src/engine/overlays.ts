/**
 * The macro overlays a risk team may set without a new strategy version: a closed, declared set, each with a type
 * and bounds (issue 12, "overlays accept anything"). A name outside this set, a value of the wrong type or outside
 * the bounds is refused with a code that names it; a stored overlay that no longer fits its declaration is not
 * applied (the strategy's own default decides, and GET /v1/overlays says so).
 */
import { LgError } from '../domain/index.js';
import type { ParamValue } from './types.js';

export interface OverlayDeclaration {
  readonly name: string;
  readonly type: 'number' | 'integer';
  /** Inclusive bounds. */
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

/** CNY 200,000: the per-borrower cap of consumer online lending (CBIRC/PBoC 2020 interim measures). */
const BORROWER_CAP_MINOR = 20_000_000;

export const OVERLAY_DECLARATIONS: readonly OverlayDeclaration[] = [
  {
    name: 'limitMultiplier',
    type: 'number',
    min: 0,
    max: 2,
    description:
      'Factor on every assigned limit (1 = policy as written); above 2 is a policy change, not an overlay.',
  },
  {
    name: 'cutoffShift',
    type: 'integer',
    min: -100,
    max: 200,
    description:
      'Points added to the score cut-off (positive tightens); 100 points is five doublings of odds at PDO 20.',
  },
  {
    name: 'cutoffScore',
    type: 'integer',
    min: 300,
    max: 900,
    description: 'The score cut-off itself, within the scorecard’s scaled range.',
  },
  {
    name: 'maxLimitMinor',
    type: 'integer',
    min: 0,
    max: BORROWER_CAP_MINOR,
    description:
      'Per-borrower line cap in minor units; an overlay may lower the regulatory cap, never raise it.',
  },
  {
    name: 'coolingOffMinutes',
    type: 'integer',
    min: 0,
    max: 1440,
    description: 'Minimum minutes between draws before a cooling-off delay applies (at most a day).',
  },
  {
    name: 'largeCallDrawMinor',
    type: 'integer',
    min: 0,
    max: BORROWER_CAP_MINOR,
    description: 'Draws of at least this while a call is in progress are held (minor units).',
  },
  {
    name: 'increaseMultiplier',
    type: 'number',
    min: 1,
    max: 2,
    description: 'Line-review limit increase factor (1 = no increase).',
  },
  {
    name: 'decreaseMultiplier',
    type: 'number',
    min: 0,
    max: 1,
    description: 'Line-review limit decrease factor (1 = no decrease).',
  },
];

const BY_NAME = new Map(OVERLAY_DECLARATIONS.map((d) => [d.name, d]));

export function overlayDeclaration(name: string): OverlayDeclaration | undefined {
  return BY_NAME.get(name);
}

/** Why a value does not fit its declaration, or undefined when it fits. */
export function overlayProblem(declaration: OverlayDeclaration, value: ParamValue): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a finite number`;
  if (declaration.type === 'integer' && !Number.isInteger(value)) return 'must be an integer';
  if (value < declaration.min || value > declaration.max)
    return `must be between ${declaration.min} and ${declaration.max}`;
  return undefined;
}

/** Checks an overlay a caller wants to set; throws a 400 that names the parameter. */
export function checkOverlay(name: string, value: ParamValue): OverlayDeclaration {
  const declaration = overlayDeclaration(name);
  if (declaration === undefined)
    throw new LgError('LG_OVERLAY_UNKNOWN', `'${name}' is not a declared overlay parameter`, {
      name,
      declared: OVERLAY_DECLARATIONS.map((d) => d.name),
    });
  const problem = overlayProblem(declaration, value);
  if (problem !== undefined)
    throw new LgError(
      'LG_OVERLAY_OUT_OF_BOUNDS',
      `overlay '${name}' ${problem}, got ${JSON.stringify(value)}`,
      {
        name,
        value,
        type: declaration.type,
        min: declaration.min,
        max: declaration.max,
      },
    );
  return declaration;
}

/** Whether a stored overlay is applied: declared, and its value fits the declaration. */
export function overlayApplies(name: string, value: ParamValue): boolean {
  const declaration = overlayDeclaration(name);
  return declaration !== undefined && overlayProblem(declaration, value) === undefined;
}
