import type { DecisionContext } from '../domain/index.js';
import { parseIsoDate } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { KeyIndex } from './key-index.js';
import type { InputDecl, StrategyDocument } from './types.js';

export interface ContextProblem {
  readonly input: string;
  readonly problem: string;
}

type InputCheck = (value: unknown) => string | undefined;

export type ContextValidator = (context: unknown) => DecisionContext;

/** Validates a context against a strategy's declared inputs (one-off; the service uses the compiled form). */
export function validateContext(strategy: StrategyDocument, context: unknown): DecisionContext {
  return compileContextValidator(strategy.inputs)(context);
}

/**
 * Builds the check once per strategy version: unknown inputs, missing required inputs, wrong types and values out of
 * range are all reported together, each naming the input, so the caller can fix the request in one go.
 */
export function compileContextValidator(inputs: readonly InputDecl[]): ContextValidator {
  const report = reportingValidator(inputs);
  const fast = fastCheck(inputs);
  return (context) => (fast(context) ? (context as DecisionContext) : report(context));
}

const NUMBER = 0;
const INTEGER = 1;
const STRING = 2;
const BOOLEAN = 3;
const OTHER = 4;

/**
 * The common case, a context that fits, in one pass: every key declared, every value of the right type and range,
 * every required input present. Anything else returns false and the reporting validator (the reference semantics)
 * decides and explains; so this only has to be right when it says true.
 */
function fastCheck(inputs: readonly InputDecl[]): (context: unknown) => boolean {
  const index = new KeyIndex(new Map(inputs.map((decl, k) => [decl.name, k])));
  const kind = inputs.map((d) =>
    d.type === 'number'
      ? NUMBER
      : d.type === 'integer'
        ? INTEGER
        : d.type === 'string'
          ? STRING
          : d.type === 'boolean'
            ? BOOLEAN
            : OTHER,
  );
  const min = inputs.map((d) => d.min ?? Number.NEGATIVE_INFINITY);
  const max = inputs.map((d) => d.max ?? Number.POSITIVE_INFINITY);
  const allowed = inputs.map((d) => (d.allowed ? new Set<unknown>(d.allowed) : undefined));
  const other = inputs.map((d) => (d.type === 'date' || d.type === 'string[]' ? inputCheck(d) : undefined));
  const required = inputs.map((d) => d.required === true);
  const requiredCount = required.filter(Boolean).length;
  return (context) => {
    if (typeof context !== 'object' || context === null || Array.isArray(context)) return false;
    const record = context as Record<string, unknown>;
    let p = 0;
    let requiredSeen = 0;
    for (const key in record) {
      const k = index.indexAt(p++, key);
      if (k < 0) return false;
      const v = record[key];
      if (v === undefined || v === null) continue;
      switch (kind[k]) {
        case NUMBER:
          if (
            typeof v !== 'number' ||
            !Number.isFinite(v) ||
            v < (min[k] as number) ||
            v > (max[k] as number)
          )
            return false;
          break;
        case INTEGER:
          if (
            typeof v !== 'number' ||
            !Number.isSafeInteger(v) ||
            v < (min[k] as number) ||
            v > (max[k] as number)
          )
            return false;
          break;
        case STRING:
          if (typeof v !== 'string') return false;
          break;
        case BOOLEAN:
          if (typeof v !== 'boolean') return false;
          break;
        default:
          if ((other[k] as InputCheck)(v) !== undefined) return false;
      }
      const set = allowed[k];
      if (set !== undefined && kind[k] !== OTHER && !set.has(v)) return false;
      if (required[k]) requiredSeen++;
    }
    return requiredSeen === requiredCount;
  };
}

/**
 * Reports every problem, each naming the input (the reference semantics the fast check defers to). With
 * `requireAll: false` it checks only the values given (each declared, each of its type and range), not that every
 * required input is there: for a context before the facts the core fetches itself (the credit bureau's) are in it.
 */
export function reportingValidator(
  inputs: readonly InputDecl[],
  options: { readonly requireAll: boolean } = { requireAll: true },
): ContextValidator {
  const checks = new Map<string, { decl: InputDecl; check: InputCheck }>(
    inputs.map((decl) => [decl.name, { decl, check: inputCheck(decl) }]),
  );
  const required = options.requireAll ? inputs.filter((i) => i.required === true).map((i) => i.name) : [];
  return (context) => {
    if (typeof context !== 'object' || context === null || Array.isArray(context)) {
      throw new LgError('LG_CONTEXT_INVALID', 'the decision context must be an object', {
        errors: [{ input: '', problem: 'not an object' }],
      });
    }
    const record = context as Record<string, unknown>;
    let problems: ContextProblem[] | undefined;
    for (const key in record) {
      const entry = checks.get(key);
      const value = record[key];
      const problem =
        entry === undefined
          ? 'is not a declared input of this strategy'
          : value === null || value === undefined
            ? undefined
            : entry.check(value);
      if (problem !== undefined) (problems ??= []).push({ input: key, problem });
    }
    for (const name of required) {
      if (record[name] === undefined || record[name] === null)
        (problems ??= []).push({ input: name, problem: 'is required' });
    }
    if (problems !== undefined) {
      const summary = problems.map((p) => `${p.input} ${p.problem}`).join('; ');
      throw new LgError('LG_CONTEXT_INVALID', `the decision context does not fit the strategy: ${summary}`, {
        errors: problems,
      });
    }
    return record as DecisionContext;
  };
}

function inputCheck(decl: InputDecl): InputCheck {
  const range = rangeCheck(decl);
  const allowed = decl.allowed ? new Set<unknown>(decl.allowed) : undefined;
  const inSet = (v: unknown): string | undefined =>
    allowed && !allowed.has(v)
      ? `value ${JSON.stringify(v)} is not one of ${JSON.stringify(decl.allowed)}`
      : undefined;
  switch (decl.type) {
    case 'number':
      return (v) =>
        typeof v !== 'number' || !Number.isFinite(v) ? `must be a finite number` : (range(v) ?? inSet(v));
    case 'integer':
      return (v) =>
        typeof v !== 'number' || !Number.isSafeInteger(v) ? `must be an integer` : (range(v) ?? inSet(v));
    case 'string':
      return (v) => (typeof v !== 'string' ? 'must be a string' : inSet(v));
    case 'boolean':
      return (v) => (typeof v !== 'boolean' ? 'must be a boolean' : undefined);
    case 'date':
      return (v) =>
        typeof v !== 'string' || parseIsoDate(v) === undefined ? 'must be a date YYYY-MM-DD' : undefined;
    case 'string[]':
      return (v) => {
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return 'must be a list of strings';
        for (const x of v) {
          const problem = inSet(x);
          if (problem) return problem;
        }
        return undefined;
      };
  }
}

function rangeCheck(decl: InputDecl): (v: number) => string | undefined {
  const { min, max } = decl;
  return (v) => {
    if (min !== undefined && v < min) return `must be at least ${min}`;
    if (max !== undefined && v > max) return `must be at most ${max}`;
    return undefined;
  };
}
