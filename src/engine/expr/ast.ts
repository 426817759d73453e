/**
 * The expression language's syntax tree. Expressions are parsed once (strategy compile time) and then either compiled
 * to closures (compile.ts) or walked directly (interpret.ts); no user text is ever handed to eval/new Function.
 */
export type Value = number | string | boolean | null | readonly Value[];

export type BinaryOp =
  '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or' | '??';

export type Expr =
  | { readonly k: 'lit'; readonly v: Value; readonly pos: number }
  | { readonly k: 'ident'; readonly name: string; readonly pos: number }
  | { readonly k: 'param'; readonly name: string; readonly pos: number }
  | { readonly k: 'neg'; readonly e: Expr; readonly pos: number }
  | { readonly k: 'not'; readonly e: Expr; readonly pos: number }
  | { readonly k: 'bin'; readonly op: BinaryOp; readonly l: Expr; readonly r: Expr; readonly pos: number }
  | {
      readonly k: 'in';
      readonly e: Expr;
      readonly list: Expr;
      readonly negate: boolean;
      readonly pos: number;
    }
  | { readonly k: 'between'; readonly e: Expr; readonly lo: Expr; readonly hi: Expr; readonly pos: number }
  | { readonly k: 'list'; readonly items: readonly Expr[]; readonly pos: number }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly Expr[]; readonly pos: number };

/** Identifiers (inputs and computed values) and overlay parameters an expression reads, for traces and validation. */
export function collectNames(expr: Expr, idents: Set<string>, params: Set<string>): void {
  switch (expr.k) {
    case 'lit':
      return;
    case 'ident':
      idents.add(expr.name);
      return;
    case 'param':
      params.add(expr.name);
      return;
    case 'neg':
    case 'not':
      collectNames(expr.e, idents, params);
      return;
    case 'bin':
      collectNames(expr.l, idents, params);
      collectNames(expr.r, idents, params);
      return;
    case 'in':
      collectNames(expr.e, idents, params);
      collectNames(expr.list, idents, params);
      return;
    case 'between':
      collectNames(expr.e, idents, params);
      collectNames(expr.lo, idents, params);
      collectNames(expr.hi, idents, params);
      return;
    case 'list':
      for (const item of expr.items) collectNames(item, idents, params);
      return;
    case 'call':
      for (const arg of expr.args) collectNames(arg, idents, params);
      return;
  }
}
