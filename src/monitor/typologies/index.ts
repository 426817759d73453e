import { accountTakeover } from './account-takeover.js';
import { cashOut } from './cash-out.js';
import { creditReportAbuse } from './credit-report-abuse.js';
import { deviceFarm } from './device-farm.js';
import { fundMisuse } from './fund-misuse.js';
import { loanStacking } from './loan-stacking.js';
import { scamSafeAccountTransfer } from './scam-safe-account.js';
import type { ParamValue, TypologyPack } from './types.js';

export type { ParamValue, ParameterSpec, TypologyContext, TypologyHit, TypologyPack } from './types.js';

export const DEFAULT_TYPOLOGIES: readonly TypologyPack[] = [
  scamSafeAccountTransfer,
  accountTakeover,
  deviceFarm,
  cashOut,
  loanStacking,
  fundMisuse,
  creditReportAbuse,
];

export type ParameterOverrides = Readonly<Record<string, Readonly<Record<string, ParamValue>>>>;

/** The effective parameters of a pack: defaults, overridden by name (unknown names are a configuration error). */
export function resolveParameters(
  pack: TypologyPack,
  overrides: ParameterOverrides = {},
): ReadonlyMap<string, ParamValue> {
  const values = new Map<string, ParamValue>(
    Object.entries(pack.parameters).map(([k, spec]) => [k, spec.default]),
  );
  for (const [name, value] of Object.entries(overrides[pack.id] ?? {})) {
    if (!values.has(name)) throw new Error(`typology ${pack.id} has no parameter ${name}`);
    values.set(name, value);
  }
  return values;
}

/** The documented face of a pack, without code (for GET /v1/typologies). */
export function describePack(pack: TypologyPack, overrides: ParameterOverrides = {}) {
  const params = resolveParameters(pack, overrides);
  return {
    id: pack.id,
    version: pack.version,
    title: pack.title,
    description: pack.description,
    triggers: pack.triggers,
    parameters: Object.fromEntries(
      Object.entries(pack.parameters).map(([k, s]) => [
        k,
        { value: params.get(k), default: s.default, description: s.description },
      ]),
    ),
    rules: pack.rules,
    reasons: pack.reasons,
    severity: pack.severity,
    actions: pack.actions,
  };
}
