import { ExpressionSyntaxError } from '../errors.js';

export type TokenKind = 'num' | 'str' | 'ident' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** For num: the numeric text without underscores; for str: the unescaped content; else the text. */
  readonly text: string;
  readonly pos: number;
}

/** Longest operators first so that `<=` is not read as `<` then `=`. */
const OPERATORS = [
  '??',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  '[',
  ']',
  ',',
] as const;

const MAX_EXPRESSION_CHARS = 10_000;

export function tokenize(source: string): Token[] {
  if (source.length > MAX_EXPRESSION_CHARS) {
    throw new ExpressionSyntaxError(`expression longer than ${MAX_EXPRESSION_CHARS} characters`, source, 0);
  }
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      i = readNumber(source, i, tokens);
      continue;
    }
    if (ch === "'" || ch === '"') {
      i = readString(source, i, tokens);
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      i = readIdent(source, i, tokens);
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined) {
      const hint =
        ch === '=' ? " (use '==' to compare)" : ch === '&' || ch === '|' ? " (use 'and' / 'or')" : '';
      throw new ExpressionSyntaxError(`unexpected character '${ch}'${hint}`, source, i);
    }
    tokens.push({ kind: 'op', text: op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: 'eof', text: '', pos: source.length });
  return tokens;
}

function readNumber(source: string, start: number, out: Token[]): number {
  const match = /^(?:[0-9][0-9_]*)?(?:\.[0-9_]+)?(?:[eE][+-]?[0-9]+)?/.exec(source.slice(start));
  const raw = match?.[0] ?? '';
  const text = raw.replace(/_/g, '');
  if (raw.endsWith('_') || !Number.isFinite(Number(text)) || text === '') {
    throw new ExpressionSyntaxError(`malformed number '${raw}'`, source, start);
  }
  const next = source[start + raw.length] ?? '';
  if (/[A-Za-z_.]/.test(next))
    throw new ExpressionSyntaxError(`malformed number '${raw}${next}'`, source, start);
  out.push({ kind: 'num', text, pos: start });
  return start + raw.length;
}

function readString(source: string, start: number, out: Token[]): number {
  const quote = source[start];
  let i = start + 1;
  let value = '';
  while (i < source.length && source[i] !== quote) {
    if (source[i] === '\\') {
      const esc = source[i + 1];
      if (esc === undefined) break;
      value += esc === 'n' ? '\n' : esc === 't' ? '\t' : esc;
      i += 2;
      continue;
    }
    value += source[i];
    i++;
  }
  if (i >= source.length) throw new ExpressionSyntaxError('unterminated string', source, start);
  out.push({ kind: 'str', text: value, pos: start });
  return i + 1;
}

function readIdent(source: string, start: number, out: Token[]): number {
  // Dotted names (param.cutoffShift) are one token; the parser decides what the namespace means.
  const match = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(source.slice(start));
  const text = match?.[0] ?? '';
  out.push({ kind: 'ident', text, pos: start });
  return start + text.length;
}
