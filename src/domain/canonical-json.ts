/**
 * Canonical JSON (in the spirit of RFC 8785): object keys sorted, no whitespace, undefined members dropped.
 * The same value always gives the same bytes, which is what hashing (ledger, idempotency) needs.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, 0);
}

/**
 * Nesting a canonical value may have. Encoding recurses once per level, so an unbounded value (a hostile request
 * body thousands of brackets deep) would overflow the stack; past this bound the encoder refuses instead.
 */
export const CANONICAL_DEPTH_MAX = 512;

/** Why a value has no canonical JSON: callers holding outside input map it to a 400, anything else is a bug. */
export class CanonicalJsonError extends Error {
  readonly problem: 'non-finite' | 'too-deep' | 'unsupported';

  constructor(problem: CanonicalJsonError['problem'], message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
    this.problem = problem;
  }
}

function encode(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'undefined':
      return 'null';
    case 'number':
      if (!Number.isFinite(value))
        throw new CanonicalJsonError('non-finite', 'canonical JSON cannot encode a non-finite number');
      return String(value); // the same digits JSON.stringify writes for a finite number
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      if (value === null) return 'null';
      if (depth >= CANONICAL_DEPTH_MAX)
        throw new CanonicalJsonError(
          'too-deep',
          `canonical JSON nests at most ${CANONICAL_DEPTH_MAX} levels`,
        );
      return Array.isArray(value)
        ? encodeArray(value, depth + 1)
        : encodeObject(value as Record<string, unknown>, depth + 1);
  }
  throw new CanonicalJsonError('unsupported', `canonical JSON cannot encode a ${typeof value}`);
}

function encodeArray(items: readonly unknown[], depth: number): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    const item = items[i];
    // A hole in a sparse array has always been written as nothing ("[1,,3]"); hashes already made depend on it.
    if (item !== undefined) out += encode(item, depth);
    else if (i in items) out += 'null';
  }
  return `${out}]`;
}

function encodeObject(value: Record<string, unknown>, depth: number): string {
  const keys = sortedKeys(value);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = value[key];
    if (member === undefined) continue;
    if (!first) out += ',';
    out += memberName(key) + encode(member, depth);
    first = false;
  }
  return `${out}}`;
}

/** Insertion sort beats Array.prototype.sort on the handful of keys a payload has; both order by UTF-16 units. */
const INSERTION_SORT_MAX = 32;

function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  if (keys.length > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j -= 1;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** `"key":` for the few member names payloads use over and over; bounded, and emptied when full. */
const memberNames = new Map<string, string>();
const MEMBER_NAMES_MAX = 4096;

function memberName(key: string): string {
  let name = memberNames.get(key);
  if (name === undefined) {
    if (memberNames.size >= MEMBER_NAMES_MAX) memberNames.clear();
    name = `${quote(key)}:`;
    memberNames.set(key, name);
  }
  return name;
}

const PLAIN_CHECK_MAX = 64;

/** JSON.stringify of a string; short printable ASCII without `"` or `\` needs no escapes, so is quoted directly. */
function quote(text: string): string {
  if (text.length > PLAIN_CHECK_MAX) return JSON.stringify(text);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return JSON.stringify(text);
  }
  return `"${text}"`;
}
