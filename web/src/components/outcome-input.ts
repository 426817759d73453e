/**
 * What a case outcome sends to `POST /v1/cases/{id}/resolve`, checked before anything is sent: the inputs each outcome
 * takes (the route's ResolveBody and src/cases/outcomes.ts `checkInput`), and the parsers that turn what an analyst
 * types (yuan, percent) into what the API takes (integer fen, a decimal rate) without floating-point rounding.
 *
 * No imports: the page, and the unit tests under Node (test/web), use it as it is.
 */

/** The body of `POST /v1/cases/{id}/resolve` (the route's ResolveBody). */
export interface ResolveBody {
  outcome: string;
  note?: string;
  reasons?: string[];
  limitMinor?: number;
  annualRate?: number;
  textZh?: string;
  textEn?: string;
}

/** The reason catalogue's categories (src/domain/reason-codes.ts). */
export type ReasonCategory = 'application' | 'draw' | 'line' | 'fraud' | 'engine' | 'compliance';

/** The inputs one outcome takes beyond its note; an outcome with none is a label, sent in one click. */
export interface OutcomeFields {
  /** A limit, entered in yuan and sent as integer fen (`limitMinor`). */
  readonly limit?: 'required' | 'optional';
  /** An annual rate, entered in percent and sent as a decimal (`annualRate`). */
  readonly rate?: 'required';
  /** Reason codes from the catalogue (`reasons`). */
  readonly reasons?: 'required' | 'optional';
  /** The borrower's outcome text in Chinese and in English (`textZh`, `textEn`), neither blank. */
  readonly texts?: 'required';
  /** An outcome that takes something from the borrower: its reasons must say why (the API's ADVERSE_OUTCOMES). */
  readonly adverse?: boolean;
  /** The catalogue's categories shown first (open) for this outcome's reasons; the others stay folded. */
  readonly reasonCategories?: readonly ReasonCategory[];
  /** The limit is a lower one (a cut) when given, or the limit an upheld appeal restores to: the form says which. */
  readonly limitMeaning?: 'grant' | 'lowerOrRestore' | 'lower';
}

const TEXTS: OutcomeFields = { texts: 'required' };

/** Per `TYPE:OUTCOME`, what the API takes (README "Outcomes act through the core"); absent: a label alone. */
const FIELDS: Readonly<Record<string, OutcomeFields>> = {
  'REVIEW_APPLICATION:APPROVE': { limit: 'required', rate: 'required', limitMeaning: 'grant' },
  'REVIEW_APPLICATION:DECLINE': {
    reasons: 'required',
    adverse: true,
    reasonCategories: ['application', 'compliance', 'fraud'],
  },
  // Without reasons the API cancels with R_MANUAL_REVIEW.
  'HELD_DRAW:CANCEL': {
    reasons: 'optional',
    adverse: true,
    reasonCategories: ['draw', 'fraud', 'line', 'engine'],
  },
  'APPEAL:UPHELD': {
    texts: 'required',
    limit: 'optional',
    reasons: 'optional',
    reasonCategories: ['line', 'fraud'],
    limitMeaning: 'lowerOrRestore',
  },
  'APPEAL:REJECTED': TEXTS,
  'COMPLAINT:RESOLVED': TEXTS,
  'CREDIT_REPORT_DISPUTE:CORRECTED': TEXTS,
  'CREDIT_REPORT_DISPUTE:REJECTED': TEXTS,
  'REINSTATEMENT:REINSTATE': {
    limit: 'optional',
    reasons: 'optional',
    reasonCategories: ['line', 'fraud'],
    limitMeaning: 'lower',
  },
};

/** The inputs `outcome` takes on a case of `type`, or undefined when it takes only a note. */
export function outcomeFields(type: string, outcome: string): OutcomeFields | undefined {
  return FIELDS[`${type}:${outcome}`];
}

/** The limits of the route's schema. */
export const MAX_REASONS = 8;
export const MAX_TEXT = 2000;

export type ParseProblem = 'blank' | 'negative' | 'format' | 'decimals' | 'tooLarge';
export type Parsed =
  { readonly ok: true; readonly value: number } | { readonly ok: false; readonly problem: ParseProblem };

/** Full-width digits, point and comma (an IME's ０-９．，), the full-width yen sign: read as their ASCII forms. */
function normalised(text: string): string {
  return text.normalize('NFKC').trim();
}

const NEGATIVE = /^[-\u2212]/;
/**
 * Yuan: digits, optionally grouped by commas in threes (`1,000.00`, `12,345,678`), then at most two decimals after a
 * point. A comma anywhere else (`1,00`, `1,5`, `10,00`) is refused, not guessed at: in some locales it is the decimal
 * separator, and a hundredfold limit is not a typo to pass on. No sign, no exponent, no `.5` or `12.`.
 */
const YUAN = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/;

/**
 * An amount typed in yuan, as integer fen, computed on the digits (BigInt), never through a float: `0.1` is 10, and
 * `1,000.00` is 100000. Refused: blank, negative, malformed, more than two decimals, past Number.MAX_SAFE_INTEGER fen.
 * Zero parses (the caller says whether it may be zero). An optional leading `¥` is allowed.
 */
export function parseYuanToFen(text: string): Parsed {
  const s = normalised(text).replace(/^¥\s*/, '');
  if (s === '') return { ok: false, problem: 'blank' };
  if (NEGATIVE.test(s)) return { ok: false, problem: 'negative' };
  const match = YUAN.exec(s);
  if (!match) return { ok: false, problem: 'format' };
  const whole = (match[1] ?? '').replace(/,/g, '');
  const decimals = match[2] ?? '';
  if (decimals.length > 2) return { ok: false, problem: 'decimals' };
  const fen = BigInt(whole) * 100n + BigInt(decimals.padEnd(2, '0'));
  if (fen > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, problem: 'tooLarge' };
  return { ok: true, value: Number(fen) };
}

/** A percent: digits, at most four decimals (a hundredth of a basis point), an optional `%` after. */
const PERCENT = /^(\d+)(?:\.(\d+))?%?$/;
export const MAX_PERCENT_DECIMALS = 4;

/**
 * A rate typed in percent, as the decimal the API takes (`15` → 0.15, `14.6` → 0.146): the decimal point is moved on
 * the digits and the result read once, so it is the double nearest the decimal typed (14.3 / 100 would be
 * 0.14300000000000002). Refused: blank, negative, malformed, more than four decimals, above 100%.
 */
export function parsePercentToRate(text: string): Parsed {
  const s = normalised(text);
  if (s === '' || s === '%') return { ok: false, problem: 'blank' };
  if (NEGATIVE.test(s)) return { ok: false, problem: 'negative' };
  const match = PERCENT.exec(s);
  if (!match) return { ok: false, problem: 'format' };
  const decimals = match[2] ?? '';
  if (decimals.length > MAX_PERCENT_DECIMALS) return { ok: false, problem: 'decimals' };
  const whole = (match[1] ?? '').replace(/^0+(?=\d)/, '').padStart(3, '0');
  const rate = Number(`${whole.slice(0, -2)}.${whole.slice(-2)}${decimals}`);
  if (rate > 1) return { ok: false, problem: 'tooLarge' };
  return { ok: true, value: rate };
}

/** What the analyst has typed and chosen for one outcome. */
export interface OutcomeDraft {
  readonly limit: string;
  readonly rate: string;
  readonly reasons: readonly string[];
  readonly textZh: string;
  readonly textEn: string;
  readonly note: string;
}

export const EMPTY_DRAFT: OutcomeDraft = {
  limit: '',
  rate: '',
  reasons: [],
  textZh: '',
  textEn: '',
  note: '',
};

/** The input a problem is about (the form marks it and moves focus to the first). */
export type DraftField = 'limit' | 'rate' | 'reasons' | 'textZh' | 'textEn' | 'note';

/** Why a draft cannot be sent; the page words each in Chinese and English. */
export type DraftProblem =
  | `limit.${ParseProblem | 'zero'}`
  | `rate.${ParseProblem}`
  | 'reasons.blank'
  | 'reasons.tooMany'
  | 'reasons.unknown'
  | 'reasons.automationOnly'
  | 'reasons.needWhy'
  | 'textZh.blank'
  | 'textEn.blank'
  | 'textZh.tooLong'
  | 'textEn.tooLong'
  | 'note.tooLong';

export interface DraftIssue {
  readonly field: DraftField;
  readonly problem: DraftProblem;
}

/**
 * The catalogue's rules for a person's reasons, as `GET /v1/reasons` gives them, when loaded: the checks the API makes
 * (a known code, one a person may give, and for an adverse outcome one that says why). Without them the API still
 * makes them.
 */
export interface ReasonRules {
  readonly isKnown: (code: string) => boolean;
  readonly personMayGive: (code: string) => boolean;
  readonly saysWhy: (code: string) => boolean;
}

/** Characters as the API's JSON Schema counts them (code points, not UTF-16 units). */
function length(text: string): number {
  return [...text].length;
}

/**
 * The request body for `outcome`, or every reason it cannot be sent. Blank optional inputs are left out; required ones
 * must be there; texts must say something (whitespace of any script alone is blank, as the API holds).
 */
export function resolveBody(
  type: string,
  outcome: string,
  draft: OutcomeDraft,
  rules?: ReasonRules,
): { readonly body: ResolveBody; readonly issues?: undefined } | { readonly issues: readonly DraftIssue[] } {
  const fields = outcomeFields(type, outcome) ?? {};
  const issues: DraftIssue[] = [];
  const body: ResolveBody = { outcome };
  const note = draft.note.trim();
  if (note !== '') {
    if (length(note) > MAX_TEXT) issues.push({ field: 'note', problem: 'note.tooLong' });
    body.note = note;
  }
  if (fields.limit && (fields.limit === 'required' || draft.limit.trim() !== '')) {
    const parsed = parseYuanToFen(draft.limit);
    if (!parsed.ok) issues.push({ field: 'limit', problem: `limit.${parsed.problem}` });
    else if (parsed.value === 0) issues.push({ field: 'limit', problem: 'limit.zero' });
    else body.limitMinor = parsed.value;
  }
  if (fields.rate) {
    const parsed = parsePercentToRate(draft.rate);
    if (!parsed.ok) issues.push({ field: 'rate', problem: `rate.${parsed.problem}` });
    else body.annualRate = parsed.value;
  }
  if (fields.reasons) {
    const reasons = [...new Set(draft.reasons)];
    if (reasons.length === 0) {
      if (fields.reasons === 'required') issues.push({ field: 'reasons', problem: 'reasons.blank' });
    } else {
      if (reasons.length > MAX_REASONS) issues.push({ field: 'reasons', problem: 'reasons.tooMany' });
      // As the API's checkInput: a lower limit is a cut, and a cut's reasons must say why.
      const adverse = fields.adverse === true || body.limitMinor !== undefined;
      if (rules) {
        if (reasons.some((code) => !rules.isKnown(code)))
          issues.push({ field: 'reasons', problem: 'reasons.unknown' });
        else if (!reasons.every(rules.personMayGive))
          issues.push({ field: 'reasons', problem: 'reasons.automationOnly' });
        else if (adverse && !reasons.some(rules.saysWhy))
          issues.push({ field: 'reasons', problem: 'reasons.needWhy' });
      }
      body.reasons = reasons;
    }
  }
  if (fields.texts) {
    for (const [field, text] of [
      ['textZh', draft.textZh],
      ['textEn', draft.textEn],
    ] as const) {
      const said = text.trim();
      if (said === '') issues.push({ field, problem: `${field}.blank` });
      else if (length(said) > MAX_TEXT) issues.push({ field, problem: `${field}.tooLong` });
      else body[field] = said;
    }
  }
  return issues.length > 0 ? { issues } : { body };
}
