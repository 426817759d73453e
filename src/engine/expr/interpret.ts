import { EngineEvaluationError } from '../errors.js';
import type { Expr, Value } from './ast.js';
import { arith, between, callFunction, compare, member, negate, truth } from './ops.js';
import type { EvalState, NameTable } from './scope.js';

/** Walks the tree on every call: the reference the compiled closures are checked against. */
export function evaluate(expr: Expr, s: EvalState, names: NameTable): Value {
  switch (expr.k) {
    case 'lit':
      return expr.v;
    case 'ident':
      return readIdent(expr.name, expr.pos, s, names);
    case 'param': {
      const v = s.params[expr.name];
      if (v === undefined)
        throw new EngineEvaluationError(`parameter 'param.${expr.name}' has no value`, expr.pos);
      return v;
    }
    case 'neg':
      return negate(evaluate(expr.e, s, names), expr.pos);
    case 'not':
      return !truth(evaluate(expr.e, s, names), expr.pos);
    case 'bin':
      return evaluateBinary(expr, s, names);
    case 'in':
      return member(evaluate(expr.e, s, names), evaluate(expr.list, s, names), expr.negate, expr.pos);
    case 'between':
      return between(
        evaluate(expr.e, s, names),
        evaluate(expr.lo, s, names),
        evaluate(expr.hi, s, names),
        expr.pos,
      );
    case 'list':
      return expr.items.map((item) => evaluate(item, s, names));
    case 'call':
      if (expr.fn === 'if') {
        const [c, a, b] = expr.args as [Expr, Expr, Expr];
        return truth(evaluate(c, s, names), expr.pos) ? evaluate(a, s, names) : evaluate(b, s, names);
      }
      return callFunction(
        expr.fn,
        expr.args.map((a) => evaluate(a, s, names)),
        expr.pos,
      );
  }
}

function readIdent(name: string, pos: number, s: EvalState, names: NameTable): Value {
  if (names.inputs.has(name)) {
    const v = s.ctx[name];
    return v === undefined ? null : (v as Value);
  }
  if (names.values.has(name)) {
    const v = s.values[name];
    if (v === undefined)
      throw new EngineEvaluationError(`value '${name}' has not been computed on this path`, pos);
    return v;
  }
  throw new EngineEvaluationError(`unknown name '${name}'`, pos);
}

function evaluateBinary(expr: Extract<Expr, { k: 'bin' }>, s: EvalState, names: NameTable): Value {
  const pos = expr.pos;
  switch (expr.op) {
    case 'and':
      return truth(evaluate(expr.l, s, names), pos) && truth(evaluate(expr.r, s, names), pos);
    case 'or':
      return truth(evaluate(expr.l, s, names), pos) || truth(evaluate(expr.r, s, names), pos);
    case '??': {
      const v = evaluate(expr.l, s, names);
      return v === null ? evaluate(expr.r, s, names) : v;
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return arith(expr.op, evaluate(expr.l, s, names), evaluate(expr.r, s, names), pos);
    default:
      return compare(expr.op, evaluate(expr.l, s, names), evaluate(expr.r, s, names), pos);
  }
}
