import type { UnitGuard } from '../domain/index.js';
import {
  LgError,
  MS_PER_DAY,
  lenderDayOf,
  parseChineseResidentId,
  type Clock,
  type ErrorCode,
  type IdGenerator,
} from '../domain/index.js';
import { sha256Hex } from '../domain/index.js';
import type { FieldCrypto } from './crypto.js';
import type { ComplianceStore, ConsentRecord } from './ports.js';

/**
 * Consent to query a credit report, per purpose (征信业管理条例 Art. 18: written consent before an inquiry, for a stated
 * purpose; PIPL Art. 13-15: informed, specific, withdrawable). A consent records the exact text version shown, the
 * channel, when it was given, when it expires and whether it was withdrawn; every change is a ledger entry.
 */
export const CONSENT_PURPOSES = [
  'LOAN_APPROVAL',
  'POST_LOAN_MGMT',
  'GUARANTOR_CHECK',
  'CARD_APPROVAL',
  'SELF',
] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

export const CONSENT_CHANNELS = ['APP', 'WEB', 'BRANCH', 'PHONE_RECORDED', 'PAPER'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

interface ConsentText {
  readonly purpose: ConsentPurpose;
  readonly text: string;
  /** How long a consent under this text lasts unless it says otherwise. */
  readonly defaultDays: number;
  /** The longest the text itself allows ("最长90日"): a consent recorded for longer would outlast what was agreed. */
  readonly maxDays?: number;
}

/** The consent texts a borrower may have been shown, by version; a new wording is a new version, never an edit. */
export const CONSENT_TEXTS: Readonly<Record<string, ConsentText>> = Object.freeze({
  'loan-approval/2026-01': {
    purpose: 'LOAN_APPROVAL',
    defaultDays: 90,
    maxDays: 90,
    text: '本人授权贵机构为审批本人的信贷申请，向金融信用信息基础数据库及其他依法设立的征信机构查询、使用本人的信用报告。授权期限自本人同意之日起至申请审批结束，最长90日。本人可随时撤回本授权，撤回不影响撤回前已进行的查询。',
  },
  'post-loan/2026-01': {
    purpose: 'POST_LOAN_MGMT',
    defaultDays: 3 * 365,
    text: '本人授权贵机构在本人借款存续期间，为贷后风险管理之目的，查询、使用本人的信用报告。本人可随时撤回本授权。',
  },
  'guarantor/2026-01': {
    purpose: 'GUARANTOR_CHECK',
    defaultDays: 90,
    text: '本人同意为他人借款提供担保，并授权贵机构为审查本人担保资格查询本人的信用报告。',
  },
});

export const CONSENT_DAYS_MAX = 5 * 365;

export interface ConsentView {
  readonly id: string;
  readonly borrowerId: string | null;
  readonly purpose: string;
  readonly textVersion: string;
  readonly textSha256: string;
  readonly channel: string;
  readonly grantedAt: string;
  readonly expiresAt: string;
  readonly withdrawnAt: string | null;
  readonly withdrawnReason: string | null;
  readonly recordedBy: string;
  readonly status: 'VALID' | 'EXPIRED' | 'WITHDRAWN';
}

export interface ConsentDeps {
  readonly store: ComplianceStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly crypto: FieldCrypto;
  /** The lender's calendar (minutes east of UTC): the day a resident ID's birth date is checked against. */
  readonly lenderUtcOffsetMinutes?: number;
}

export interface ConsentInput {
  readonly nationalId: string;
  readonly purpose: ConsentPurpose;
  readonly textVersion: string;
  readonly channel: ConsentChannel;
  /** Default: the text's own period; never more than CONSENT_DAYS_MAX. */
  readonly expiresAt?: number;
  readonly recordedBy: string;
}

export const NATIONAL_ID_LOOKUP = 'national_id';

/**
 * The lookup hashes of a national ID (current key first, then retired keys), after checking it is one on `lenderToday`
 * (YYYY-MM-DD, the lender's calendar day: domain/lender-calendar.ts), so an ID is judged here on the day the core
 * judges it when the person applies (src/core/borrowers.ts), not on the UTC day, a day off either side of midnight.
 */
export function subjectHashes(
  crypto: FieldCrypto,
  nationalId: string,
  lenderToday: string,
): [string, ...string[]] {
  const normalised = nationalId.trim().toUpperCase();
  parseChineseResidentId(normalised, lenderToday);
  return crypto.lookupHashes(normalised, NATIONAL_ID_LOOKUP);
}

type ConsentRow = ConsentRecord;

function statusOf(row: ConsentRow, now: number): ConsentView['status'] {
  if (row.withdrawn_at !== null) return 'WITHDRAWN';
  return Number(row.expires_at) <= now ? 'EXPIRED' : 'VALID';
}

export function consentView(row: ConsentRow, now: number): ConsentView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
  return {
    id: row.id,
    borrowerId: row.borrower_id,
    purpose: row.purpose,
    textVersion: row.text_version,
    textSha256: row.text_sha256,
    channel: row.channel,
    grantedAt: iso(row.granted_at) as string,
    expiresAt: iso(row.expires_at) as string,
    withdrawnAt: iso(row.withdrawn_at),
    withdrawnReason: row.withdrawn_reason,
    recordedBy: row.recorded_by,
    status: statusOf(row, now),
  };
}

export async function recordConsent(
  deps: ConsentDeps,
  input: ConsentInput,
  guard?: UnitGuard<ConsentView>,
): Promise<ConsentView> {
  const now = deps.clock.now();
  const hashes = subjectHashes(deps.crypto, input.nationalId, lenderDayOf(deps, now));
  const text = CONSENT_TEXTS[input.textVersion];
  if (!text || text.purpose !== input.purpose)
    throw new LgError(
      'LG_VALIDATION',
      `textVersion '${input.textVersion}' is not a consent text for ${input.purpose}`,
      { known: Object.keys(CONSENT_TEXTS).filter((v) => CONSENT_TEXTS[v]?.purpose === input.purpose) },
    );
  const expiresAt = input.expiresAt ?? now + text.defaultDays * MS_PER_DAY;
  const maxDays = text.maxDays ?? CONSENT_DAYS_MAX;
  if (expiresAt <= now || expiresAt > now + maxDays * MS_PER_DAY)
    throw new LgError(
      'LG_VALIDATION',
      `expiresAt must be in the future and within ${maxDays} days (what text ${input.textVersion} allows)`,
      { field: 'expiresAt', maxDays },
    );
  const borrowerId = await deps.store.borrowerIdByHashes(hashes);
  const row: ConsentRow = {
    id: deps.ids.next(),
    subject_hash: hashes[0],
    borrower_id: borrowerId ?? null,
    purpose: input.purpose,
    text_version: input.textVersion,
    text_sha256: sha256Hex(text.text),
    channel: input.channel,
    granted_at: now,
    expires_at: expiresAt,
    withdrawn_at: null,
    withdrawn_reason: null,
    recorded_by: input.recordedBy,
  };
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.unit(async (tx) => {
    await tx.insertConsent(row);
    await tx.appendLedger([
      {
        entryId: row.id,
        kind: 'consent.granted',
        subjectId: row.borrower_id ?? row.subject_hash,
        recordedAt: now,
        payload: {
          consentId: row.id,
          subjectHash: row.subject_hash,
          borrowerId: row.borrower_id,
          purpose: row.purpose,
          textVersion: row.text_version,
          textSha256: row.text_sha256,
          channel: row.channel,
          expiresAt,
          recordedBy: row.recorded_by,
        },
      },
    ]);
    return consentView(row, now);
  }, guard);
}

export async function withdrawConsent(
  deps: ConsentDeps,
  input: { readonly consentId: string; readonly reason: string; readonly by: string },
  guard?: UnitGuard<ConsentView>,
): Promise<ConsentView> {
  const now = deps.clock.now();
  return deps.store.unit(async (tx) => {
    const updated = await tx.withdrawConsent(input.consentId, now, input.reason);
    if (!updated) {
      if (!(await tx.consentExists(input.consentId)))
        throw new LgError('LG_NOT_FOUND', `no consent '${input.consentId}'`);
      throw new LgError('LG_CONFLICT', 'the consent was already withdrawn');
    }
    await tx.appendLedger([
      {
        entryId: `${input.consentId}:withdrawn`,
        kind: 'consent.withdrawn',
        subjectId: updated.borrower_id ?? updated.subject_hash,
        recordedAt: now,
        payload: { consentId: input.consentId, reason: input.reason, by: input.by },
      },
    ]);
    return consentView(updated, now);
  }, guard);
}

export type ConsentCheck =
  | { readonly ok: true; readonly consentId: string }
  | { readonly ok: false; readonly code: Extract<ErrorCode, `LG_CONSENT_${string}`> };

/**
 * Whether the subject has a valid consent for `purpose` at `now`. The refusal names the nearest miss, so the log
 * says why: nothing on file, only for other purposes, withdrawn, or expired.
 */
export function checkConsent(rows: readonly ConsentRow[], purpose: string, now: number): ConsentCheck {
  if (rows.length === 0) return { ok: false, code: 'LG_CONSENT_MISSING' };
  const forPurpose = rows.filter((r) => r.purpose === purpose);
  const valid = forPurpose.find((r) => statusOf(r, now) === 'VALID');
  if (valid) return { ok: true, consentId: valid.id };
  if (forPurpose.length === 0) return { ok: false, code: 'LG_CONSENT_PURPOSE' };
  return {
    ok: false,
    code: forPurpose.some((r) => r.withdrawn_at !== null) ? 'LG_CONSENT_WITHDRAWN' : 'LG_CONSENT_EXPIRED',
  };
}
