import { EngineEvaluationError } from '../errors.js';
import type { Expr, Value } from './ast.js';
import { arith, between, callFunction, compare, member, negate, truth } from './ops.js';
import type { EvalState, NameTable } from './scope.js';

export type Compiled = (s: EvalState) => Value;

/**
 * Slot layout of a compiled strategy: each declared input (and overlay parameter) an expression reads gets an index,
 * and the strategy copies those values into arrays once per decision. Expressions then read `slots[k]` (a monomorphic
 * array load) instead of a keyed property load on the caller's context, and the trace reuses the same snapshot.
 */
export interface SlotLayout {
  readonly inputs: ReadonlyMap<string, number>;
  readonly params: ReadonlyMap<string, number>;
}

/** The state a slot-compiled expression reads: the EvalState plus the per-decision snapshots. */
export interface SlotState extends EvalState {
  /** Input values by slot (absent -> null). */
  readonly slots: readonly Value[];
  /** Overlay parameter values by slot (absent -> undefined, an error only when read). */
  readonly paramSlots: readonly (Value | undefined)[];
}

/**
 * Turns a syntax tree into nested closures once, so a decision runs plain function calls with no parsing and no
 * dispatch on node kinds. Names are resolved here: an input reads the context (absent -> null), a computed value must
 * have been computed on this path, or evaluation fails closed.
 */
export function compileExpr(expr: Expr, names: NameTable, layout?: SlotLayout): Compiled {
  switch (expr.k) {
    case 'lit': {
      const v = expr.v;
      return () => v;
    }
    case 'ident':
      return compileIdent(expr.name, expr.pos, names, layout);
    case 'param': {
      const { name, pos } = expr;
      const slot = layout?.params.get(name);
      if (slot !== undefined) {
        // The state is a SlotState whenever the expression was compiled with a layout (compiler.ts builds both).
        return (s) => {
          const v = (s as SlotState).paramSlots[slot];
          if (v === undefined) throw new EngineEvaluationError(`parameter 'param.${name}' has no value`, pos);
          return v;
        };
      }
      return (s) => {
        const v = s.params[name];
        if (v === undefined) throw new EngineEvaluationError(`parameter 'param.${name}' has no value`, pos);
        return v;
      };
    }
    case 'neg': {
      const e = compileExpr(expr.e, names, layout);
      const pos = expr.pos;
      return (s) => negate(e(s), pos);
    }
    case 'not': {
      const e = compileExpr(expr.e, names, layout);
      const pos = expr.pos;
      return (s) => !truth(e(s), pos);
    }
    case 'bin':
      return compileBinary(expr, names, layout);
    case 'in': {
      const e = compileExpr(expr.e, names, layout);
      const list = compileExpr(expr.list, names, layout);
      const { negate: neg, pos } = expr;
      return (s) => member(e(s), list(s), neg, pos);
    }
    case 'between': {
      const e = compileExpr(expr.e, names, layout);
      const lo = compileExpr(expr.lo, names, layout);
      const hi = compileExpr(expr.hi, names, layout);
      const pos = expr.pos;
      return (s) => between(e(s), lo(s), hi(s), pos);
    }
    case 'list': {
      const items = expr.items.map((item) => compileExpr(item, names, layout));
      if (expr.items.every((item) => item.k === 'lit')) {
        const constant = expr.items.map((item) => (item.k === 'lit' ? item.v : null));
        return () => constant;
      }
      return (s) => items.map((item) => item(s));
    }
    case 'call':
      return compileCall(expr.fn, expr.args, expr.pos, names, layout);
  }
}

function compileIdent(name: string, pos: number, names: NameTable, layout: SlotLayout | undefined): Compiled {
  const slot = layout?.inputs.get(name);
  if (slot !== undefined) return (s) => (s as SlotState).slots[slot] as Value;
  if (names.inputs.has(name)) {
    return (s) => {
      const v = s.ctx[name];
      return v === undefined ? null : (v as Value);
    };
  }
  if (names.values.has(name)) {
    return (s) => {
      const v = s.values[name];
      if (v === undefined)
        throw new EngineEvaluationError(`value '${name}' has not been computed on this path`, pos);
      return v;
    };
  }
  return () => {
    throw new EngineEvaluationError(`unknown name '${name}'`, pos);
  };
}

function compileBinary(
  expr: Extract<Expr, { k: 'bin' }>,
  names: NameTable,
  layout: SlotLayout | undefined,
): Compiled {
  const fused = layout ? compileSlotComparison(expr, layout) : undefined;
  if (fused) return fused;
  const l = compileExpr(expr.l, names, layout);
  const r = compileExpr(expr.r, names, layout);
  const pos = expr.pos;
  switch (expr.op) {
    case 'and':
      return (s) => truth(l(s), pos) && truth(r(s), pos);
    case 'or':
      return (s) => truth(l(s), pos) || truth(r(s), pos);
    case '??':
      return (s) => {
        const v = l(s);
        return v === null ? r(s) : v;
      };
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      const op = expr.op;
      return (s) => arith(op, l(s), r(s), pos);
    }
    case '<': {
      // Fast path for the most common rule shape: number < number.
      return (s) => {
        const a = l(s);
        const b = r(s);
        return typeof a === 'number' && typeof b === 'number' ? a < b : compare('<', a, b, pos);
      };
    }
    case '>':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return typeof a === 'number' && typeof b === 'number' ? a > b : compare('>', a, b, pos);
      };
    default: {
      const op = expr.op;
      return (s) => compare(op, l(s), r(s), pos);
    }
  }
}

/**
 * The most common rule shape, `input <op> literal`, as one closure instead of three (read, literal, compare). The
 * fast branch covers the well-typed case; everything else goes through `compare`, so the semantics are unchanged.
 */
function compileSlotComparison(expr: Extract<Expr, { k: 'bin' }>, layout: SlotLayout): Compiled | undefined {
  if (expr.l.k !== 'ident' || expr.r.k !== 'lit') return undefined;
  const slot = layout.inputs.get(expr.l.name);
  const lit = expr.r.v;
  if (slot === undefined || lit === null || typeof lit === 'object') return undefined;
  const pos = expr.pos;
  const op = expr.op;
  if (op === '==') {
    return (s) => {
      const a = (s as SlotState).slots[slot] as Value;
      return a === lit ? true : compare('==', a, lit, pos);
    };
  }
  if (typeof lit !== 'number') return undefined;
  switch (op) {
    case '<':
      return (s) => {
        const a = (s as SlotState).slots[slot] as Value;
        return typeof a === 'number' ? a < lit : compare('<', a, lit, pos);
      };
    case '<=':
      return (s) => {
        const a = (s as SlotState).slots[slot] as Value;
        return typeof a === 'number' ? a <= lit : compare('<=', a, lit, pos);
      };
    case '>':
      return (s) => {
        const a = (s as SlotState).slots[slot] as Value;
        return typeof a === 'number' ? a > lit : compare('>', a, lit, pos);
      };
    case '>=':
      return (s) => {
        const a = (s as SlotState).slots[slot] as Value;
        return typeof a === 'number' ? a >= lit : compare('>=', a, lit, pos);
      };
    default:
      return undefined;
  }
}

function compileCall(
  fn: string,
  argExprs: readonly Expr[],
  pos: number,
  names: NameTable,
  layout: SlotLayout | undefined,
): Compiled {
  const args = argExprs.map((a) => compileExpr(a, names, layout));
  if (fn === 'if') {
    const [c, a, b] = args as [Compiled, Compiled, Compiled];
    return (s) => (truth(c(s), pos) ? a(s) : b(s));
  }
  if (args.length === 1) {
    const a0 = args[0] as Compiled;
    return (s) => callFunction(fn, [a0(s)], pos);
  }
  return (s) =>
    callFunction(
      fn,
      args.map((a) => a(s)),
      pos,
    );
}

/** One `input <op> literal` test of a conjunction (see simpleConjunction). */
export interface SlotTest {
  readonly slot: number;
  readonly op: '==' | '<' | '<=' | '>' | '>=';
  readonly lit: number | string | boolean;
  readonly pos: number;
}

/**
 * When an expression is `t1 and t2 and …` where every `t` is `input <op> literal` (the usual rule condition), its
 * tests as data, so a rule set can check them in one monomorphic loop (checkConjunction) instead of a chain of
 * closure calls. Undefined for any other shape, which keeps its compiled closure.
 */
export function simpleConjunction(expr: Expr, layout: SlotLayout): SlotTest[] | undefined {
  if (expr.k !== 'bin') return undefined;
  if (expr.op === 'and') {
    const l = simpleConjunction(expr.l, layout);
    const r = l && simpleConjunction(expr.r, layout);
    return l && r ? [...l, ...r] : undefined;
  }
  if (expr.l.k !== 'ident' || expr.r.k !== 'lit') return undefined;
  const slot = layout.inputs.get(expr.l.name);
  const lit = expr.r.v;
  if (slot === undefined || lit === null || typeof lit === 'object') return undefined;
  const op = expr.op;
  if (op === '==' || ((op === '<' || op === '<=' || op === '>' || op === '>=') && typeof lit === 'number'))
    return [{ slot, op, lit, pos: expr.pos }];
  return undefined;
}

/** Same result (and same errors, in the same order) as the compiled `and` chain of the same tests. */
export function checkConjunction(tests: readonly SlotTest[], slots: readonly Value[]): boolean {
  for (let k = 0; k < tests.length; k++) {
    const t = tests[k] as SlotTest;
    const a = slots[t.slot] as Value;
    let ok: boolean;
    switch (t.op) {
      case '==':
        ok = a === t.lit ? true : compare('==', a, t.lit, t.pos);
        break;
      case '<':
        ok = typeof a === 'number' ? a < (t.lit as number) : compare('<', a, t.lit, t.pos);
        break;
      case '<=':
        ok = typeof a === 'number' ? a <= (t.lit as number) : compare('<=', a, t.lit, t.pos);
        break;
      case '>':
        ok = typeof a === 'number' ? a > (t.lit as number) : compare('>', a, t.lit, t.pos);
        break;
      case '>=':
        ok = typeof a === 'number' ? a >= (t.lit as number) : compare('>=', a, t.lit, t.pos);
        break;
    }
    if (!ok) return false;
  }
  return true;
}
