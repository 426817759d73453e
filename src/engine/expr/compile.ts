import { EngineEvaluationError } from '../errors.js';
import type { Expr, Value } from './ast.js';
import { arith, between, callFunction, compare, member, negate, truth } from './ops.js';
import type { EvalState, NameTable } from './scope.js';

export type Compiled = (s: EvalState) => Value;

/**
 * Turns a syntax tree into nested closures once, so a decision runs plain function calls with no parsing and no
 * dispatch on node kinds. Names are resolved here: an input reads the context (absent -> null), a computed value must
 * have been computed on this path, or evaluation fails closed.
 */
export function compileExpr(expr: Expr, names: NameTable): Compiled {
  switch (expr.k) {
    case 'lit': {
      const v = expr.v;
      return () => v;
    }
    case 'ident':
      return compileIdent(expr.name, expr.pos, names);
    case 'param': {
      const { name, pos } = expr;
      return (s) => {
        const v = s.params[name];
        if (v === undefined) throw new EngineEvaluationError(`parameter 'param.${name}' has no value`, pos);
        return v;
      };
    }
    case 'neg': {
      const e = compileExpr(expr.e, names);
      const pos = expr.pos;
      return (s) => negate(e(s), pos);
    }
    case 'not': {
      const e = compileExpr(expr.e, names);
      const pos = expr.pos;
      return (s) => !truth(e(s), pos);
    }
    case 'bin':
      return compileBinary(expr, names);
    case 'in': {
      const e = compileExpr(expr.e, names);
      const list = compileExpr(expr.list, names);
      const { negate: neg, pos } = expr;
      return (s) => member(e(s), list(s), neg, pos);
    }
    case 'between': {
      const e = compileExpr(expr.e, names);
      const lo = compileExpr(expr.lo, names);
      const hi = compileExpr(expr.hi, names);
      const pos = expr.pos;
      return (s) => between(e(s), lo(s), hi(s), pos);
    }
    case 'list': {
      const items = expr.items.map((item) => compileExpr(item, names));
      if (expr.items.every((item) => item.k === 'lit')) {
        const constant = expr.items.map((item) => (item.k === 'lit' ? item.v : null));
        return () => constant;
      }
      return (s) => items.map((item) => item(s));
    }
    case 'call':
      return compileCall(expr.fn, expr.args, expr.pos, names);
  }
}

function compileIdent(name: string, pos: number, names: NameTable): Compiled {
  if (names.inputs.has(name)) {
    return (s) => {
      const v = s.ctx[name];
      return v === undefined ? null : (v as Value);
    };
  }
  if (names.values.has(name)) {
    return (s) => {
      const v = s.values[name];
      if (v === undefined) throw new EngineEvaluationError(`value '${name}' has not been computed on this path`, pos);
      return v;
    };
  }
  return () => {
    throw new EngineEvaluationError(`unknown name '${name}'`, pos);
  };
}

function compileBinary(expr: Extract<Expr, { k: 'bin' }>, names: NameTable): Compiled {
  const l = compileExpr(expr.l, names);
  const r = compileExpr(expr.r, names);
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

function compileCall(fn: string, argExprs: readonly Expr[], pos: number, names: NameTable): Compiled {
  const args = argExprs.map((a) => compileExpr(a, names));
  if (fn === 'if') {
    const [c, a, b] = args as [Compiled, Compiled, Compiled];
    return (s) => (truth(c(s), pos) ? a(s) : b(s));
  }
  if (args.length === 1) {
    const a0 = args[0] as Compiled;
    return (s) => callFunction(fn, [a0(s)], pos);
  }
  return (s) => callFunction(fn, args.map((a) => a(s)), pos);
}
