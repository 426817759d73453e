import type { ParameterSpec } from './types.js';
import { DAY } from './types.js';

/** Parameters every pack has. */
export const COMMON_PARAMETERS: Readonly<Record<string, ParameterSpec>> = {
  alertDedupWindowMs: {
    default: 7 * DAY,
    description:
      'a second firing for the same borrower within this window joins the open alert instead of raising a new one',
  },
};
