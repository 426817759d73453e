import { EngineEvaluationError } from './errors.js';
import type { Value } from './expr/ast.js';
import { compare } from './expr/ops.js';
import type { CellSource } from './types.js';

/**
 * Decision-table and bin cells (DMN "unary tests", simplified):
 *   "-" or ""          any value (also null)
 *   "[a..b)", "(a..b]" numeric range; either bound may be omitted: "[700..]", "(..300)"
 *   ">= 5", "!= 'X'"   a comparison with a literal (= and == both mean equals)
 *   5, true, "A11"     equals that literal (a bare word is a string)
 *   ["A11", "A12"]     one of a set
 *   null               the value is absent
 * A null value only matches "-" and null: comparisons with null are false, as in expressions.
 */
export type Cell =
  | { readonly k: 'any' }
  | { readonly k: 'null' }
  | {
      readonly k: 'range';
      readonly lo: number | null;
      readonly loIncl: boolean;
      readonly hi: number | null;
      readonly hiIncl: boolean;
    }
  | {
      readonly k: 'cmp';
      readonly op: '==' | '!=' | '<' | '<=' | '>' | '>=';
      readonly v: string | number | boolean;
    }
  | { readonly k: 'set'; readonly values: readonly (string | number | boolean)[] };

const NUM = String.raw`-?(?:\d[\d_]*)?(?:\.\d+)?(?:[eE][+-]?\d+)?`;
const RANGE = new RegExp(String.raw`^([\[(])\s*(${NUM})?\s*\.\.\s*(${NUM})?\s*([\])])$`);
const COMPARISON = /^(<=|>=|!=|==|=|<|>)\s*(.+)$/;

export class CellSyntaxError extends Error {}

export function parseCell(source: CellSource): Cell {
  if (source === null) return { k: 'null' };
  if (Array.isArray(source)) return { k: 'set', values: source };
  if (typeof source === 'number' || typeof source === 'boolean') return { k: 'cmp', op: '==', v: source };
  const text = (source as string).trim();
  if (text === '-' || text === '') return { k: 'any' };
  const range = RANGE.exec(text);
  if (range) return parseRange(range, text);
  const cmp = COMPARISON.exec(text);
  if (cmp) {
    const op = cmp[1] === '=' ? '==' : (cmp[1] as '==' | '!=' | '<' | '<=' | '>' | '>=');
    return { k: 'cmp', op, v: parseLiteral(cmp[2] as string) };
  }
  return { k: 'cmp', op: '==', v: parseLiteral(text) };
}

function parseRange(m: RegExpExecArray, text: string): Cell {
  const lo = m[2] ? Number(m[2].replace(/_/g, '')) : null;
  const hi = m[3] ? Number(m[3].replace(/_/g, '')) : null;
  if ((lo !== null && Number.isNaN(lo)) || (hi !== null && Number.isNaN(hi)))
    throw new CellSyntaxError(`malformed range '${text}'`);
  if (lo === null && hi === null) throw new CellSyntaxError(`range '${text}' has no bounds; use "-" for any`);
  if (lo !== null && hi !== null && lo > hi)
    throw new CellSyntaxError(`range '${text}' has its lower bound above its upper bound`);
  return { k: 'range', lo, loIncl: m[1] === '[', hi, hiIncl: m[4] === ']' };
}

function parseLiteral(text: string): string | number | boolean {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^(['"]).*\1$/.test(t)) return t.slice(1, -1);
  if (new RegExp(`^${NUM}$`).test(t) && /\d/.test(t)) return Number(t.replace(/_/g, ''));
  if (/[\s[\]()]/.test(t))
    throw new CellSyntaxError(`cannot read cell '${t}' (quote strings that contain spaces)`);
  return t;
}

export function matchCell(cell: Cell, value: Value): boolean {
  switch (cell.k) {
    case 'any':
      return true;
    case 'null':
      return value === null;
    case 'range':
      if (value === null) return false;
      if (typeof value !== 'number')
        throw new EngineEvaluationError(`range cell needs a number, got ${JSON.stringify(value)}`);
      if (cell.lo !== null && (cell.loIncl ? value < cell.lo : value <= cell.lo)) return false;
      if (cell.hi !== null && (cell.hiIncl ? value > cell.hi : value >= cell.hi)) return false;
      return true;
    case 'cmp':
      return compare(cell.op, value, cell.v, 0);
    case 'set':
      return value !== null && cell.values.includes(value as string | number | boolean);
  }
}
