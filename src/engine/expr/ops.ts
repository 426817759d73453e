import { MS_PER_DAY } from '../../domain/index.js';
import { EngineEvaluationError } from '../errors.js';
import type { Value } from './ast.js';

/**
 * The language's primitive semantics, shared by the compiler and the interpreter so both mean the same thing:
 * - null propagates through arithmetic and functions (`null + 1` is null);
 * - every comparison with a null operand is false (`null == null` too; use isNull(x) or `x ?? y`);
 * - and / or / not treat null as false; any other non-boolean there is an error;
 * - division or modulo by zero, NaN and ±Infinity are errors, so a strategy fails closed instead of guessing.
 */
export function typeName(value: Value): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'list' : typeof value;
}

export function arith(op: '+' | '-' | '*' | '/' | '%', a: Value, b: Value, pos: number): Value {
  if (a === null || b === null) return null;
  if (typeof a !== 'number' || typeof b !== 'number') {
    throw new EngineEvaluationError(`'${op}' needs numbers, got ${typeName(a)} and ${typeName(b)}`, pos);
  }
  let result: number;
  switch (op) {
    case '+':
      result = a + b;
      break;
    case '-':
      result = a - b;
      break;
    case '*':
      result = a * b;
      break;
    case '/':
      if (b === 0) throw new EngineEvaluationError('division by zero', pos);
      result = a / b;
      break;
    case '%':
      if (b === 0) throw new EngineEvaluationError('modulo by zero', pos);
      result = a % b;
      break;
  }
  return finite(result, pos);
}

export function negate(a: Value, pos: number): Value {
  if (a === null) return null;
  if (typeof a !== 'number')
    throw new EngineEvaluationError(`unary '-' needs a number, got ${typeName(a)}`, pos);
  return a === 0 ? 0 : -a;
}

export function compare(op: '==' | '!=' | '<' | '<=' | '>' | '>=', a: Value, b: Value, pos: number): boolean {
  if (a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b))
    throw new EngineEvaluationError(`cannot compare a list with '${op}'`, pos);
  if (op === '==') return a === b;
  if (op === '!=') return typeof a !== typeof b || a !== b;
  if (typeof a !== typeof b || typeof a === 'boolean') {
    throw new EngineEvaluationError(
      `'${op}' needs two numbers or two strings, got ${typeName(a)} and ${typeName(b)}`,
      pos,
    );
  }
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

/** Truth value for and/or/not and for rule conditions. */
export function truth(value: Value, pos: number): boolean {
  if (value === null) return false;
  if (typeof value === 'boolean') return value;
  throw new EngineEvaluationError(`expected a boolean, got ${typeName(value)}`, pos);
}

export function member(value: Value, list: Value, negateResult: boolean, pos: number): boolean {
  if (value === null) return false;
  if (list === null) return false;
  if (!Array.isArray(list))
    throw new EngineEvaluationError(`'in' needs a list on the right, got ${typeName(list)}`, pos);
  const found = (list as readonly Value[]).includes(value);
  return negateResult ? !found : found;
}

export function between(value: Value, lo: Value, hi: Value, pos: number): boolean {
  if (value === null || lo === null || hi === null) return false;
  return compare('>=', value, lo, pos) && compare('<=', value, hi, pos);
}

export function finite(result: number, pos: number): number {
  if (!Number.isFinite(result)) throw new EngineEvaluationError('result is not a finite number', pos);
  return result;
}

function num(fn: string, value: Value, pos: number): number {
  if (typeof value !== 'number')
    throw new EngineEvaluationError(`${fn}() needs numbers, got ${typeName(value)}`, pos);
  return value;
}

function dateMs(value: Value, pos: number): number {
  const ms =
    typeof value === 'string'
      ? Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value)
      : NaN;
  if (Number.isNaN(ms))
    throw new EngineEvaluationError(`daysBetween() needs ISO dates, got ${JSON.stringify(value)}`, pos);
  return ms;
}

/** Eager functions (`if` is lazy and handled by each evaluator). Null in → null out, except isNull. */
export function callFunction(fn: string, args: readonly Value[], pos: number): Value {
  if (fn === 'isNull') return args[0] === null;
  if (args.some((a) => a === null)) return null;
  const a0 = args[0] as Value;
  switch (fn) {
    case 'min':
      return Math.min(...args.map((a) => num(fn, a, pos)));
    case 'max':
      return Math.max(...args.map((a) => num(fn, a, pos)));
    case 'abs':
      return Math.abs(num(fn, a0, pos));
    case 'floor':
      return Math.floor(num(fn, a0, pos));
    case 'ceil':
      return Math.ceil(num(fn, a0, pos));
    case 'round':
      return roundHalfAwayFromZero(
        num(fn, a0, pos),
        args.length > 1 ? num(fn, args[1] as Value, pos) : 0,
        pos,
      );
    case 'ln': {
      const x = num(fn, a0, pos);
      if (x <= 0) throw new EngineEvaluationError(`ln() of a non-positive number (${x})`, pos);
      return Math.log(x);
    }
    case 'exp':
      return finite(Math.exp(num(fn, a0, pos)), pos);
    case 'clamp': {
      const [x, lo, hi] = args.map((a) => num(fn, a, pos)) as [number, number, number];
      if (lo > hi) throw new EngineEvaluationError(`clamp() lower bound ${lo} above upper bound ${hi}`, pos);
      return Math.min(hi, Math.max(lo, x));
    }
    case 'daysBetween':
      return (dateMs(args[1] as Value, pos) - dateMs(a0, pos)) / MS_PER_DAY;
    default:
      throw new EngineEvaluationError(`unknown function ${fn}()`, pos);
  }
}

/** Commercial rounding (half away from zero) to `digits` decimals, as a lender's price sheet expects. */
function roundHalfAwayFromZero(x: number, digits: number, pos: number): number {
  if (!Number.isInteger(digits) || digits < 0 || digits > 12) {
    throw new EngineEvaluationError(`round() digits must be an integer 0..12, got ${digits}`, pos);
  }
  const factor = 10 ** digits;
  // The small epsilon keeps 1.005 (stored as 1.00499…) rounding to 1.01 as written.
  const scaled = Math.abs(x) * factor * (1 + Number.EPSILON);
  return (Math.sign(x) * Math.round(scaled)) / factor || 0;
}
