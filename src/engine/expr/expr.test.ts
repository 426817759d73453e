import { describe, expect, it } from 'vitest';
import { EngineEvaluationError, ExpressionSyntaxError } from '../errors.js';
import type { Value } from './ast.js';
import { compileExpr } from './compile.js';
import { evaluate } from './interpret.js';
import { parseExpression } from './parser.js';
import type { EvalState, NameTable } from './scope.js';

const names: NameTable = {
  inputs: new Set(['a', 'b', 's', 'd1', 'd2', 'tags', 'missing', 'flag']),
  values: new Set(['score']),
  params: new Set(['shift']),
};
const state: EvalState = {
  ctx: { a: 10, b: 4, s: 'GOLD', d1: '2024-01-01', d2: '2024-03-01', tags: ['x', 'y'], flag: true },
  values: { score: 612.5 },
  params: { shift: -20 },
};

/** Both evaluators, which must agree. */
function run(source: string): Value {
  const expr = parseExpression(source);
  const compiled = compileExpr(expr, names)(state);
  expect(evaluate(expr, state, names)).toEqual(compiled);
  return compiled;
}

describe('expression language', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['a / b', 2.5],
    ['a % b', 2],
    ['-a + 1', -9],
    ['1_000_000 / 1e3', 1000],
    ['a > b and b > 1', true],
    ['a < b or not flag', false],
    ['not a > 5', false],
    ["s == 'GOLD'", true],
    ["s != 'GOLD'", false],
    ["s in ['GOLD', 'SILVER']", true],
    ["s not in ['GOLD']", false],
    ["'x' in tags", true],
    ['a between 10 and 20', true],
    ['a between 11 and 20 and true', false],
    ['score + param.shift', 592.5],
    ['min(a, b, 3)', 3],
    ['max(a, b)', 10],
    ['abs(-3.5)', 3.5],
    ['round(2.345, 2)', 2.35],
    ['round(-2.5)', -3],
    ['floor(2.7) + ceil(2.1)', 5],
    ['daysBetween(d1, d2)', 60],
    ['round(ln(exp(2)), 6)', 2],
    ['clamp(a, 0, 5)', 5],
    ["if(a > 5, 'big', 'small')", 'big'],
    ['isNull(missing)', true],
  ])('%s = %j', (source, expected) => {
    expect(run(source)).toEqual(expected);
  });

  it('propagates null through arithmetic and makes comparisons with null false', () => {
    expect(run('missing + 1')).toBeNull();
    expect(run('missing > 1')).toBe(false);
    expect(run('missing == null')).toBe(false);
    expect(run('missing < 1 or missing >= 1')).toBe(false);
    expect(run('missing ?? 7')).toBe(7);
    expect(run('missing ?? 0 > 5')).toBe(false);
    expect(run('min(missing, 1)')).toBeNull();
    expect(run('missing in [1, 2]')).toBe(false);
    expect(run('missing between 1 and 2')).toBe(false);
  });

  it('short-circuits and/or/if so an unreachable error never fires', () => {
    expect(run('false and a / 0 > 1')).toBe(false);
    expect(run('true or a / 0 > 1')).toBe(true);
    expect(run('if(true, 1, a / 0)')).toBe(1);
  });

  it('reports syntax errors with positions', () => {
    const cases: [string, number, RegExp][] = [
      ['a = 1', 2, /use '=='/],
      ['a > ', 4, /unexpected end/],
      ['a < b < c', 6, /cannot be chained/],
      ['foo(1)', 0, /unknown function 'foo'/],
      ['round()', 0, /takes 1 to 2/],
      ["'abc", 0, /unterminated string/],
      ['a between 1 or 2', 12, /expected 'and'/],
      ['x.y', 0, /only 'param/],
      ['[1, 2]', 0, /only allowed after 'in'/],
      ['(a + 1', 6, /expected '\)'/],
      ['a && b', 2, /use 'and'/],
    ];
    for (const [source, position, message] of cases) {
      try {
        parseExpression(source);
        expect.unreachable(source);
      } catch (error) {
        expect(error).toBeInstanceOf(ExpressionSyntaxError);
        expect((error as ExpressionSyntaxError).position, source).toBe(position);
        expect((error as Error).message, source).toMatch(message);
      }
    }
  });

  it('throws EngineEvaluationError for division by zero, bad types and uncomputed values', () => {
    const bad = [
      'a / 0',
      'a % 0',
      "a + 'x'",
      's > 1',
      'ln(0)',
      'exp(1000)',
      'a and true',
      'clamp(1, 5, 0)',
      'score2 > 1',
    ];
    for (const source of bad) {
      const expr = parseExpression(source);
      expect(() => compileExpr(expr, names)(state), source).toThrow(EngineEvaluationError);
      expect(() => evaluate(expr, state, names), source).toThrow(EngineEvaluationError);
    }
    const uncomputed: EvalState = { ...state, values: {} };
    expect(() => compileExpr(parseExpression('score > 1'), names)(uncomputed)).toThrow(
      /has not been computed/,
    );
  });

  it('never evaluates user text as code', () => {
    expect(() => parseExpression("constructor.constructor('return process')()")).toThrow(
      ExpressionSyntaxError,
    );
    expect(() => parseExpression('__proto__')).not.toThrow();
    expect(() => compileExpr(parseExpression('__proto__'), names)(state)).toThrow(/unknown name/);
  });
});
