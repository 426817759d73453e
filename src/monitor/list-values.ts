import { isIP } from 'node:net';
import { residentIdCheckChar } from '../domain/index.js';

/**
 * The one canonical form of a list value per entity type: what an entry stores (or hashes) when it is added, and what
 * a probe is looked up as at application, at draw, in event intake and in a partner's keyed HMAC. Two spellings of one
 * address, card, phone or ID have the same canonical form, so a listed value cannot be got round by writing it another
 * way.
 */
export const LIST_ENTITY_TYPES = [
  'user',
  'nationalIdHash',
  'device',
  'ip',
  'payee',
  'merchant',
  'phoneHash',
] as const;
export type ListEntityType = (typeof LIST_ENTITY_TYPES)[number];

/** Hyphen-minus and the Unicode dashes (hyphen, non-breaking hyphen, figure/en/em dash, minus sign). */
const DASHES = '\\-\u2010-\u2015\u2212';
const PAYEE_SEPARATORS = new RegExp(`[\\s\\p{P}${DASHES}]`, 'gu');
const PERSON_SEPARATORS = new RegExp(`[\\s.()${DASHES}]`, 'g');

/**
 * Full-width digits, letters, `＋`, `－` and the ideographic space as their ASCII forms (NFKC); any other script's
 * decimal digits (Arabic-Indic ٦, Devanagari ६, …) as ASCII digits; invisible format characters (zero-width space,
 * joiners, byte-order mark) dropped; trimmed.
 */
function folded(value: string): string {
  return value.normalize('NFKC').replace(FORMAT_CHARACTERS, '').replace(DECIMAL_DIGIT, asciiDigit).trim();
}

const FORMAT_CHARACTERS = /\p{Cf}/gu;
const LONE_SURROGATE = /\p{Cs}/u;
const DECIMAL_DIGIT = /[^\d]/gu;

/**
 * A decimal digit of another script as its ASCII digit, anything else as it is. Unicode's decimal digits (Nd) come in
 * runs of ten from that script's zero, so the digit's value is its distance from the start of its run, modulo ten
 * (the one place runs touch, the mathematical digits, NFKC has already folded).
 */
function asciiDigit(char: string): string {
  if (!/\p{Nd}/u.test(char)) return char;
  const code = char.codePointAt(0) ?? 0;
  let start = code;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start -= 1;
  return String((code - start) % 10);
}

/**
 * An IP address as RFC 5952 text: IPv4 dotted decimal; IPv6 in lower case, leading zeros dropped, the longest run of
 * two or more zero groups (the first of equal runs) as `::`. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, in any
 * spelling) is its IPv4 address: a dual-stack socket reports an IPv4 client that way. Undefined when the text is not
 * an IP address (or carries a zone index, which names an interface of the sender, not an address).
 */
export function canonicalIp(text: string): string | undefined {
  const value = text.trim();
  const version = isIP(value);
  // node:net refuses leading zeros in a dotted quad, so an IPv4 address it accepts is already canonical.
  if (version === 4) return value;
  if (version !== 6 || value.includes('%')) return undefined;
  const groups = ipv6Groups(value.toLowerCase());
  if (groups === undefined) return undefined;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return compressedIpv6(groups);
}

/** The eight 16-bit groups of an IPv6 address isIP accepted (an embedded dotted quad becomes the last two). */
function ipv6Groups(text: string): number[] | undefined {
  let body = text;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(body);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    body = `${body.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = body.split('::');
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((group) => parseInt(group, 16));
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

function compressedIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 §4.2.2: a single zero group is never shortened
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let end = i;
    while (end < groups.length && groups[end] === 0) end += 1;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * A payee: a card or account number (digits in groups, whatever separates them) as its digits; a wallet account named
 * by a mobile number with its country code written out (`+86 138…`, `0086 138…`) as the mobile's 11 digits, as it is
 * written without one; any other identifier as given (trimmed, full-width forms folded, invisible characters dropped),
 * case kept. Undefined when nothing is left.
 */
function canonicalPayee(value: string): string | undefined {
  const text = folded(value);
  const bare = text.replace(PAYEE_SEPARATORS, '');
  if (bare === '') return undefined;
  const mobile = /^(?:\+|00)86(1\d{10})$/.exec(bare)?.[1];
  if (mobile !== undefined) return mobile;
  return /^\d+$/.test(bare) ? bare : text;
}

/**
 * A Chinese mobile number (GB/T 13852 numbering) as its 11 digits: separators (space . - ( )) dropped, the +86 / 0086
 * / 86 country prefix and a trunk 0 (`+86 0139…`, `0139…`) dropped. Undefined when what is left is not 11 digits
 * starting with 1: the core's borrowers are Chinese mobiles, so an entry that is not one could never match.
 */
function canonicalPhone(value: string): string | undefined {
  const bare = folded(value).replace(PERSON_SEPARATORS, '');
  const national = /^(?:\+|00)?86(0?1\d{10})$/.exec(bare)?.[1] ?? bare;
  const mobile = national.replace(/^0(?=1\d{10}$)/, '');
  return /^1\d{10}$/.test(mobile) ? mobile : undefined;
}

/**
 * A resident ID number (GB 11643-1999) as the core keeps it (core/borrowers.ts: 18 characters, upper-case X), with
 * separators and full-width forms removed. Undefined when it is not 17 digits and a check character that matches.
 */
function canonicalNationalId(value: string): string | undefined {
  const id = folded(value).replace(PERSON_SEPARATORS, '').toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return undefined;
  return residentIdCheckChar(id.slice(0, 17)) === id[17] ? id : undefined;
}

/** Runs of white space, dashes and underscores: the separators a code's words are written with. */
const CODE_SEPARATORS = new RegExp(`[\\s_${DASHES}]+`, 'gu');

/**
 * A code of a closed vocabulary (a credit-report inquiry's purpose and origin: LOAN_APPROVAL, POST_LOAN_MGMT, SELF) in
 * one form: folded as list values are (full-width forms, invisible characters, trimmed), upper case, its words joined
 * by one underscore. `loan_approval`, ` Loan-Approval ` and `LOAN APPROVAL` are LOAN_APPROVAL, so a rule keyed on a code
 * cannot be got round by writing it another way. Undefined when nothing is left.
 */
export function canonicalCode(value: string): string | undefined {
  if (LONE_SURROGATE.test(value)) return undefined;
  const code = folded(value).toUpperCase().replace(CODE_SEPARATORS, '_').replace(/^_|_$/g, '');
  return code === '' ? undefined : code;
}

/**
 * The canonical form of a value of its entity type, or undefined when it is not a valid one (an entry refuses it).
 * Person identifiers are returned in clear: the caller hashes them. Borrower, device and merchant ids are opaque
 * tokens of other systems and only trimmed: a device id may be case-sensitive (base64 fingerprints), and folding case
 * could put an innocent device on a list.
 */
export function canonicalListValue(entityType: ListEntityType, value: string): string | undefined {
  // A lone surrogate is not text: it could be stored but never typed again by anyone, so never match.
  if (LONE_SURROGATE.test(value)) return undefined;
  switch (entityType) {
    case 'ip':
      return canonicalIp(value);
    case 'payee':
      return canonicalPayee(value);
    case 'phoneHash':
      return canonicalPhone(value);
    case 'nationalIdHash':
      return canonicalNationalId(value);
    default: {
      // Opaque ids (users, devices, merchants) keep their case and characters, but not invisible ones.
      const trimmed = value.replace(FORMAT_CHARACTERS, '').trim();
      return trimmed === '' ? undefined : trimmed;
    }
  }
}

/**
 * How the version before canonical forms spelled a value (trim; IPs lower-cased; national IDs upper-cased; phones
 * without ( ) - spaces and the +86 / 0086 / 86 prefix). A probe that has no canonical form falls back to it, and a
 * person identifier is also looked up under it, so what an earlier version stored still matches the same spelling.
 */
export function legacyListValue(entityType: ListEntityType, value: string): string {
  const trimmed = value.trim();
  if (entityType === 'ip') return trimmed.toLowerCase();
  if (entityType === 'nationalIdHash') return trimmed.toUpperCase();
  if (entityType !== 'phoneHash') return trimmed;
  const digits = trimmed.replace(/[\s()-]/g, '').replace(/^\+/, '');
  return digits.replace(/^(0086|86)(?=1\d{10}$)/, '');
}

/** What a probe is looked up as: its canonical form, or (a value that has none) its earlier spelling. */
export function normaliseListValue(entityType: ListEntityType, value: string): string {
  return canonicalListValue(entityType, value) ?? legacyListValue(entityType, value);
}

const WHAT: Readonly<Record<ListEntityType, string>> = {
  user: 'a borrower id',
  nationalIdHash:
    'a resident ID number (GB 11643-1999: 17 digits and a matching check character) or its lookup hash',
  device: 'a device id',
  ip: 'an IPv4 or IPv6 address',
  payee: 'a payee id',
  merchant: 'a merchant id',
  phoneHash: 'a mobile number (11 digits starting with 1, optionally +86) or its lookup hash',
};

/** What an entry of the type must be, for an error message (never the value: it may be personal data). */
export function listValueDescription(entityType: ListEntityType): string {
  return WHAT[entityType];
}
