import type { FieldCrypto } from './crypto.js';
import type { NamedResealCounts } from './reseal.js';
import { openPair, sealPair, sealedColumn, sealedPair, type SealedPair } from './sealed-pair.js';

/**
 * Appeals and complaints at rest (PIPL Art. 51): what the borrower writes (an appeal in their own words and the
 * documents it cites, a complaint's text) and what the lender answers (an appeal's outcome, a complaint's resolution,
 * the reason its deadline was extended) are free text that can name the borrower, their phone, their debts. Each is
 * sealed in its row (sealed-pair.ts), bound to the row and the column; two texts written together are one token
 * (the English riding with the Chinese, the documents with the appeal's text). The ledger entries carry the keyed
 * commitments to the committed texts instead of the texts (appeal.filed `textHmac`, appeal.decided `outcomeHmac`,
 * complaint.filed `textHmac`, complaint.extended `reasonHmac`, a complaint's case.resolved `resolutionHmac`);
 * complaint.extended entries written before sealing carry the reason itself.
 *
 * Rows written before sealing hold them in clear: read as they are, and `keys rotate-data` seals them (a migration
 * holds no data key).
 */
export const APPEAL_STATEMENT = sealedPair(
  { table: 'appeals', committed: 'text', rider: 'documents' },
  'appeal',
);
/** An appeal's outcome, the reviewer's words in Chinese and English: null until decided (nothing sealed). */
export const APPEAL_OUTCOME = sealedPair(
  { table: 'appeals', committed: 'outcome_zh', rider: 'outcome_en' },
  'appeal',
);
/** A complaint's text: written alone, sealed alone. */
export const COMPLAINT_STATEMENT = sealedColumn({ table: 'complaints', column: 'text' }, 'complaint');
/** Why a complaint's deadline was extended (the lender's words): null until extended. */
export const COMPLAINT_EXTENSION = sealedColumn(
  { table: 'complaints', column: 'extension_reason' },
  'complaint',
);
/** A complaint's resolution, in Chinese and English: null until resolved. */
export const COMPLAINT_RESOLUTION = sealedPair(
  { table: 'complaints', committed: 'resolution_zh', rider: 'resolution_en' },
  'complaint',
);

/** An appeal's columns that hold personal data, as stored (src/cases/records.ts). */
export interface AppealTexts {
  readonly id: string;
  readonly text: string;
  /** JSON array of document references (the appeal text's rider once sealed). */
  readonly documents: string;
  readonly outcome_zh: string | null;
  readonly outcome_en: string | null;
}

/** A complaint's columns that hold personal data, as stored (src/cases/records.ts). */
export interface ComplaintTexts {
  readonly id: string;
  readonly text: string;
  readonly extension_reason: string | null;
  readonly resolution_zh: string | null;
  readonly resolution_en: string | null;
}

/** A text in Chinese and English, as a reviewer writes it. */
export interface BilingualText {
  readonly zh: string;
  readonly en: string;
}

/** A new appeal's text and documents as stored (sealed), and the commitment its appeal.filed entry carries. */
export function sealAppealStatement(
  crypto: FieldCrypto,
  appealId: string,
  clear: { readonly text: string; readonly documents: string },
): { text: string; documents: string; textHmac: string } {
  const sealed = sealPair(crypto, APPEAL_STATEMENT, appealId, {
    committed: clear.text,
    rider: clear.documents,
  });
  return { text: sealed.committed, documents: sealed.rider, textHmac: sealed.commitment };
}

/** A decided appeal's outcome texts as stored (sealed), and the commitment its appeal.decided entry carries. */
export function sealAppealOutcome(
  crypto: FieldCrypto,
  appealId: string,
  texts: BilingualText,
): { outcome_zh: string; outcome_en: string; outcomeHmac: string } {
  const sealed = sealPair(crypto, APPEAL_OUTCOME, appealId, { committed: texts.zh, rider: texts.en });
  return { outcome_zh: sealed.committed, outcome_en: sealed.rider, outcomeHmac: sealed.commitment };
}

/** A new complaint's text as stored (sealed), and the commitment its complaint.filed entry carries. */
export function sealComplaintText(
  crypto: FieldCrypto,
  complaintId: string,
  text: string,
): { text: string; textHmac: string } {
  const sealed = sealPair(crypto, COMPLAINT_STATEMENT, complaintId, { committed: text, rider: '' });
  return { text: sealed.committed, textHmac: sealed.commitment };
}

/** An extension's reason as stored (sealed), and the commitment its complaint.extended entry carries. */
export function sealExtensionReason(
  crypto: FieldCrypto,
  complaintId: string,
  reason: string,
): { extension_reason: string; reasonHmac: string } {
  const sealed = sealPair(crypto, COMPLAINT_EXTENSION, complaintId, { committed: reason, rider: '' });
  return { extension_reason: sealed.committed, reasonHmac: sealed.commitment };
}

/** A resolution's texts as stored (sealed), and the commitment the complaint's case.resolved entry carries. */
export function sealComplaintResolution(
  crypto: FieldCrypto,
  complaintId: string,
  texts: BilingualText,
): { resolution_zh: string; resolution_en: string; resolutionHmac: string } {
  const sealed = sealPair(crypto, COMPLAINT_RESOLUTION, complaintId, {
    committed: texts.zh,
    rider: texts.en,
  });
  return { resolution_zh: sealed.committed, resolution_en: sealed.rider, resolutionHmac: sealed.commitment };
}

/**
 * A pair whose committed column is null until something happens (a decision, an extension): nothing is sealed then.
 * A column sealed alone has no rider: its own `rider` stays null.
 */
function openUnlessNull(
  crypto: FieldCrypto | undefined,
  pair: SealedPair,
  rowId: string,
  stored: { readonly committed: string | null; readonly rider: string | null },
): { committed: string | null; rider: string | null } {
  if (stored.committed === null) return stored;
  const opened = openPair(crypto, pair, rowId, { committed: stored.committed, rider: stored.rider ?? '' });
  return { committed: opened.committed, rider: pair.rider === null ? null : opened.rider };
}

/** The appeal with its texts as written; throws LG_SEALED_DATA_UNREADABLE when one cannot be opened. */
export function openAppeal<T extends AppealTexts>(crypto: FieldCrypto | undefined, row: T): T {
  const statement = openPair(crypto, APPEAL_STATEMENT, row.id, { committed: row.text, rider: row.documents });
  const outcome = openUnlessNull(crypto, APPEAL_OUTCOME, row.id, {
    committed: row.outcome_zh,
    rider: row.outcome_en,
  });
  return {
    ...row,
    text: statement.committed,
    documents: statement.rider,
    outcome_zh: outcome.committed,
    outcome_en: outcome.rider,
  };
}

/** The complaint with its texts as written; throws LG_SEALED_DATA_UNREADABLE when one cannot be opened. */
export function openComplaint<T extends ComplaintTexts>(crypto: FieldCrypto | undefined, row: T): T {
  const text = openPair(crypto, COMPLAINT_STATEMENT, row.id, { committed: row.text, rider: '' });
  const extension = openUnlessNull(crypto, COMPLAINT_EXTENSION, row.id, {
    committed: row.extension_reason,
    rider: null,
  });
  const resolution = openUnlessNull(crypto, COMPLAINT_RESOLUTION, row.id, {
    committed: row.resolution_zh,
    rider: row.resolution_en,
  });
  return {
    ...row,
    text: text.committed,
    extension_reason: extension.committed,
    resolution_zh: resolution.committed,
    resolution_en: resolution.rider,
  };
}

/**
 * What a rotation of appeals and complaints reports (reseal.ts), per sealed pair: appeals… (text and documents),
 * appealOutcomes…, complaints… (text), complaintExtensions…, complaintResolutions… — each Checked, Sealed, Unopenable.
 */
export type CaseTextResealResult = NamedResealCounts<'appeals'> &
  NamedResealCounts<'appealOutcomes'> &
  NamedResealCounts<'complaints'> &
  NamedResealCounts<'complaintExtensions'> &
  NamedResealCounts<'complaintResolutions'>;
