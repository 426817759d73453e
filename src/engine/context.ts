import type { DecisionContext } from '../domain/decision.js';
import { parseIsoDate } from '../domain/clock.js';
import { LgError } from '../domain/errors.js';
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
  const checks = new Map<string, { decl: InputDecl; check: InputCheck }>(inputs.map((decl) => [decl.name, { decl, check: inputCheck(decl) }]));
  const required = inputs.filter((i) => i.required === true).map((i) => i.name);
  return (context) => {
    if (typeof context !== 'object' || context === null || Array.isArray(context)) {
      throw new LgError('LG_CONTEXT_INVALID', 'the decision context must be an object', { errors: [{ input: '', problem: 'not an object' }] });
    }
    const record = context as Record<string, unknown>;
    let problems: ContextProblem[] | undefined;
    for (const key in record) {
      const entry = checks.get(key);
      const value = record[key];
      const problem = entry === undefined ? 'is not a declared input of this strategy' : value === null || value === undefined ? undefined : entry.check(value);
      if (problem !== undefined) (problems ??= []).push({ input: key, problem });
    }
    for (const name of required) {
      if (record[name] === undefined || record[name] === null) (problems ??= []).push({ input: name, problem: 'is required' });
    }
    if (problems !== undefined) {
      const summary = problems.map((p) => `${p.input} ${p.problem}`).join('; ');
      throw new LgError('LG_CONTEXT_INVALID', `the decision context does not fit the strategy: ${summary}`, { errors: problems });
    }
    return record as DecisionContext;
  };
}

function inputCheck(decl: InputDecl): InputCheck {
  const range = rangeCheck(decl);
  const allowed = decl.allowed ? new Set<unknown>(decl.allowed) : undefined;
  const inSet = (v: unknown): string | undefined => (allowed && !allowed.has(v) ? `value ${JSON.stringify(v)} is not one of ${JSON.stringify(decl.allowed)}` : undefined);
  switch (decl.type) {
    case 'number':
      return (v) => (typeof v !== 'number' || !Number.isFinite(v) ? `must be a finite number` : (range(v) ?? inSet(v)));
    case 'integer':
      return (v) => (typeof v !== 'number' || !Number.isSafeInteger(v) ? `must be an integer` : (range(v) ?? inSet(v)));
    case 'string':
      return (v) => (typeof v !== 'string' ? 'must be a string' : inSet(v));
    case 'boolean':
      return (v) => (typeof v !== 'boolean' ? 'must be a boolean' : undefined);
    case 'date':
      return (v) => (typeof v !== 'string' || parseIsoDate(v) === undefined ? 'must be a date YYYY-MM-DD' : undefined);
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
