import { ExpressionSyntaxError } from '../errors.js';
import type { BinaryOp, Expr } from './ast.js';
import { tokenize, type Token } from './lexer.js';

/**
 * A Pratt parser. Binding power, loosest first:
 *   or(1) < and(2) < not(3) < comparison, in, between(4) < ??(5) < + -(6) < * / %(7) < unary -(8)
 * `??` binds tighter than comparison so `income ?? 0 > 5000` reads as `(income ?? 0) > 5000`.
 * Comparisons do not chain (`a < b < c` is a syntax error, not a surprise).
 */
export const FUNCTION_ARITY: Readonly<Record<string, readonly [number, number]>> = {
  min: [1, 64],
  max: [1, 64],
  abs: [1, 1],
  round: [1, 2],
  floor: [1, 1],
  ceil: [1, 1],
  daysBetween: [2, 2],
  ln: [1, 1],
  exp: [1, 1],
  clamp: [3, 3],
  if: [3, 3],
  isNull: [1, 1],
};

const KEYWORDS = new Set(['true', 'false', 'null', 'and', 'or', 'not', 'in', 'between']);
const COMPARISON_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const BP_COMPARE = 4;
const MAX_DEPTH = 200;

export function parseExpression(source: string): Expr {
  const parser = new Parser(source, tokenize(source));
  const expr = parser.parse(0);
  parser.expectEnd();
  return expr;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(minBp: number): Expr {
    if (++this.depth > MAX_DEPTH) this.fail('expression nested too deeply', this.peek().pos);
    let left = this.prefix();
    for (;;) {
      const token = this.peek();
      const bp = this.infixPower(token);
      if (bp <= minBp) break;
      left = this.infix(left, bp);
    }
    this.depth--;
    return left;
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'eof') this.fail(`unexpected '${token.text}'`, token.pos);
  }

  private prefix(): Expr {
    const token = this.next();
    switch (token.kind) {
      case 'num':
        return { k: 'lit', v: Number(token.text), pos: token.pos };
      case 'str':
        return { k: 'lit', v: token.text, pos: token.pos };
      case 'ident':
        return this.identifier(token);
      case 'op':
        return this.prefixOperator(token);
      case 'eof':
        return this.fail('unexpected end of expression', token.pos);
    }
  }

  private prefixOperator(token: Token): Expr {
    if (token.text === '-') {
      const operand = this.parse(7);
      if (operand.k === 'lit' && typeof operand.v === 'number')
        return { k: 'lit', v: -operand.v, pos: token.pos };
      return { k: 'neg', e: operand, pos: token.pos };
    }
    if (token.text === '(') {
      const inner = this.parse(0);
      this.expectOp(')');
      return inner;
    }
    if (token.text === '[') return this.fail("a list [..] is only allowed after 'in'", token.pos);
    return this.fail(`unexpected '${token.text}'`, token.pos);
  }

  private identifier(token: Token): Expr {
    const name = token.text;
    if (name === 'true' || name === 'false') return { k: 'lit', v: name === 'true', pos: token.pos };
    if (name === 'null') return { k: 'lit', v: null, pos: token.pos };
    if (name === 'not') return { k: 'not', e: this.parse(3), pos: token.pos };
    if (KEYWORDS.has(name)) return this.fail(`unexpected keyword '${name}'`, token.pos);
    if (this.peek().kind === 'op' && this.peek().text === '(') return this.call(token);
    if (name.includes('.')) {
      const [namespace, key, ...rest] = name.split('.');
      if (namespace !== 'param' || key === undefined || rest.length > 0) {
        return this.fail(`unknown name '${name}' (only 'param.<name>' may contain a dot)`, token.pos);
      }
      return { k: 'param', name: key, pos: token.pos };
    }
    return { k: 'ident', name, pos: token.pos };
  }

  private call(token: Token): Expr {
    const arity = FUNCTION_ARITY[token.text];
    if (arity === undefined) {
      return this.fail(
        `unknown function '${token.text}' (known: ${Object.keys(FUNCTION_ARITY).join(', ')})`,
        token.pos,
      );
    }
    this.expectOp('(');
    const args = this.commaList(')');
    if (args.length < arity[0] || args.length > arity[1]) {
      const want = arity[0] === arity[1] ? `${arity[0]}` : `${arity[0]} to ${arity[1]}`;
      this.fail(`${token.text}() takes ${want} argument(s), got ${args.length}`, token.pos);
    }
    return { k: 'call', fn: token.text, args, pos: token.pos };
  }

  private commaList(close: ')' | ']'): Expr[] {
    const items: Expr[] = [];
    if (this.peek().kind === 'op' && this.peek().text === close) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.parse(0));
      const sep = this.next();
      if (sep.kind === 'op' && sep.text === close) return items;
      if (!(sep.kind === 'op' && sep.text === ',')) this.fail(`expected ',' or '${close}'`, sep.pos);
    }
  }

  private infixPower(token: Token): number {
    if (token.kind === 'op') {
      if (token.text === '??') return 5;
      if (token.text === '+' || token.text === '-') return 6;
      if (token.text === '*' || token.text === '/' || token.text === '%') return 7;
      if (COMPARISON_OPS.has(token.text)) return BP_COMPARE;
      return 0;
    }
    if (token.kind !== 'ident') return 0;
    if (token.text === 'or') return 1;
    if (token.text === 'and') return 2;
    if (token.text === 'in' || token.text === 'between') return BP_COMPARE;
    if (token.text === 'not' && this.tokens[this.index + 1]?.text === 'in') return BP_COMPARE;
    return 0;
  }

  private infix(left: Expr, bp: number): Expr {
    const token = this.next();
    const text = token.text;
    if (text === 'between') return this.between(left, token);
    if (text === 'in' || text === 'not') {
      if (text === 'not') this.next();
      return this.noChain(this.inList(left, token, text === 'not'));
    }
    if (text === '??') return { k: 'bin', op: '??', l: left, r: this.parse(bp - 1), pos: token.pos };
    const right = this.parse(bp);
    const node: Expr = { k: 'bin', op: text as BinaryOp, l: left, r: right, pos: token.pos };
    return bp === BP_COMPARE ? this.noChain(node) : node;
  }

  private between(left: Expr, token: Token): Expr {
    const lo = this.parse(BP_COMPARE);
    const and = this.next();
    if (!(and.kind === 'ident' && and.text === 'and'))
      this.fail("expected 'and' in 'between … and …'", and.pos);
    const hi = this.parse(BP_COMPARE);
    return this.noChain({ k: 'between', e: left, lo, hi, pos: token.pos });
  }

  private inList(left: Expr, token: Token, negate: boolean): Expr {
    const open = this.peek();
    if (open.kind === 'op' && open.text === '[') {
      this.next();
      const items = this.commaList(']');
      return { k: 'in', e: left, list: { k: 'list', items, pos: open.pos }, negate, pos: token.pos };
    }
    return { k: 'in', e: left, list: this.parse(BP_COMPARE), negate, pos: token.pos };
  }

  private noChain(node: Expr): Expr {
    const token = this.peek();
    if (this.infixPower(token) === BP_COMPARE) this.fail('comparisons cannot be chained; use and', token.pos);
    return node;
  }

  private expectOp(text: string): void {
    const token = this.next();
    if (!(token.kind === 'op' && token.text === text)) this.fail(`expected '${text}'`, token.pos);
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.tokens[this.index] as Token;
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  private fail(message: string, pos: number): never {
    throw new ExpressionSyntaxError(message, this.source, pos);
  }
}
