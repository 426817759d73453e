import { parseIsoDate } from './clock.js';
import { LgError } from './errors.js';

/**
 * Chinese resident identity numbers (GB 11643-1999): 6-digit administrative region, 8-digit birth date (YYYYMMDD),
 * 3-digit sequence (odd = male, even = female), and a check character computed with ISO 7064 MOD 11-2
 * (weights 2^(17-i) mod 11, check = (12 - Σ mod 11) mod 11, where 10 is written "X").
 */
export interface ResidentIdInfo {
  birthDate: string;
  sex: 'M' | 'F';
  regionCode: string;
}

export type NationalIdProblem = 'length' | 'format' | 'date' | 'checksum';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

function reject(reason: NationalIdProblem, message: string): LgError {
  // The number itself is personal data: never echo it back in the error.
  return new LgError('LG_INVALID_NATIONAL_ID', message, { reason });
}

/** The ISO 7064 MOD 11-2 check character of the first 17 digits. */
export function residentIdCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw reject('format', 'the first 17 characters must be digits');
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARS[sum % 11] ?? '';
}

/**
 * Parses and checks an 18-character resident ID. `today` (YYYY-MM-DD, from the injected clock) bounds the birth date.
 * A lower-case final "x" is accepted as "X".
 */
export function parseChineseResidentId(id: string, today: string): ResidentIdInfo {
  const text = typeof id === 'string' ? id.trim().toUpperCase() : '';
  if (text.length !== 18) throw reject('length', 'a resident ID number has 18 characters');
  if (!/^\d{17}[\dX]$/.test(text)) {
    throw reject('format', 'a resident ID number is 17 digits followed by a digit or X');
  }
  const birthDate = `${text.slice(6, 10)}-${text.slice(10, 12)}-${text.slice(12, 14)}`;
  const birthMs = parseIsoDate(birthDate);
  const todayMs = parseIsoDate(today);
  if (todayMs === undefined) throw new Error(`today must be YYYY-MM-DD, got ${today}`);
  if (birthMs === undefined || birthDate < '1900-01-01' || birthMs > todayMs) {
    throw reject('date', 'the birth date in the resident ID number is not a valid past date');
  }
  if (residentIdCheckChar(text.slice(0, 17)) !== text[17]) {
    throw reject('checksum', 'the resident ID number check character does not match (GB 11643-1999)');
  }
  return { birthDate, sex: Number(text[16]) % 2 === 1 ? 'M' : 'F', regionCode: text.slice(0, 6) };
}

/** "110101199003071234" -> "110***********1234": the first 3 and last 4 characters stay visible. */
export function maskNationalId(id: string): string {
  if (id.length <= 7) return '*'.repeat(id.length);
  return `${id.slice(0, 3)}${'*'.repeat(id.length - 7)}${id.slice(-4)}`;
}

/**
 * "13812345678" -> "138****5678"; "+8613812345678" -> "+86138****5678"; "65123456" -> "****3456". At least four
 * digits are hidden whatever the length (a mobile's middle four), and at most seven shown: a shorter number (a
 * landline, a foreign one) shows fewer, never all of itself.
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 7) return '*'.repeat(phone.length);
  const prefix = phone.startsWith('+') && digits.length > 11 ? `+${digits.slice(0, digits.length - 11)}` : '';
  const local = prefix === '' ? digits : digits.slice(digits.length - 11);
  const hidden = Math.max(4, local.length - 7);
  const tail = Math.min(4, local.length - hidden);
  const head = local.length - hidden - tail;
  return `${prefix}${local.slice(0, head)}${'*'.repeat(hidden)}${local.slice(local.length - tail)}`;
}

/** Keeps the family name's first character: "张三丰" -> "张**", "Li Wei" -> "L*****". */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length === 0) return '';
  return `${chars[0] ?? ''}${'*'.repeat(Math.max(1, chars.length - 1))}`;
}

/** Age in whole years on a date (a birthday on 29 Feb is reached on 1 Mar in common years). */
export function ageOn(birthDate: string, asOfDate: string): number {
  if (parseIsoDate(birthDate) === undefined || parseIsoDate(asOfDate) === undefined) {
    throw new LgError('LG_VALIDATION', 'dates must be YYYY-MM-DD', { birthDate, asOfDate });
  }
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [ay, am, ad] = asOfDate.split('-').map(Number) as [number, number, number];
  const hadBirthday = am > bm || (am === bm && ad >= bd);
  return ay - by - (hadBirthday ? 0 : 1);
}
