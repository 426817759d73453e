import { MS_PER_DAY } from '../domain/clock.js';
import type { LineStatus } from '../domain/line.js';
import { borrowerReasons, type BorrowerReason, type ReasonLang } from '../domain/reason-codes.js';
import type { FieldCrypto } from '../compliance/crypto.js';
import { findBorrower, maskBorrower, type MaskedBorrower } from './borrowers.js';
import { actionView, recentActions, type ActionView } from './lines.js';
import { findLine, parseReasons, type ActionRow, type LineRow, type Q } from './repo.js';
import type { StoreKind } from '../store/db.js';

export interface LineView {
  readonly id: string;
  readonly status: string;
  readonly currency: string;
  readonly limitMinor: number;
  readonly baseLimitMinor: number;
  readonly tempLimitUntil: string | null;
  readonly availableMinor: number;
  readonly outstandingPrincipalMinor: number;
  readonly annualRate: number;
  readonly dpd: number;
  readonly bucket: string;
  readonly borrower: MaskedBorrower;
  readonly recentActions: ActionView[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function lineViewOf(row: LineRow, borrower: MaskedBorrower, actions: readonly ActionRow[]): LineView {
  return {
    id: row.id,
    status: row.status,
    currency: row.currency,
    limitMinor: Number(row.limit_minor),
    baseLimitMinor: Number(row.base_limit_minor),
    tempLimitUntil: row.temp_limit_until === null ? null : iso(Number(row.temp_limit_until)),
    availableMinor: Number(row.available_minor),
    outstandingPrincipalMinor: Number(row.outstanding_minor),
    annualRate: Number(row.annual_rate),
    dpd: Number(row.dpd),
    bucket: row.bucket,
    borrower,
    recentActions: actions.map(actionView),
    createdAt: iso(Number(row.created_at)),
    updatedAt: iso(Number(row.updated_at)),
  };
}

export async function readLine(db: Q, kind: StoreKind, crypto: FieldCrypto, id: string): Promise<LineView> {
  const row = await findLine(db, kind, id);
  const [borrower, actions] = await Promise.all([findBorrower(db, row.borrower_id), recentActions(db, id)]);
  return lineViewOf(row, maskBorrower(borrower, crypto), actions);
}

const STATUS_WORDS: Record<LineStatus, { zh: string; en: string }> = {
  PENDING: { zh: '您的额度正在开通中。', en: 'Your credit line is being set up.' },
  ACTIVE: { zh: '您的额度可正常使用。', en: 'Your credit line is available to use.' },
  DRAW_FROZEN: {
    zh: '您的额度暂时不能借款，已有借款按原计划还款即可。',
    en: 'You cannot borrow from your line for now; keep repaying existing loans as scheduled.',
  },
  SUSPENDED: {
    zh: '您的额度服务已暂停，正在复核中，暂时不能借款。',
    en: 'Your credit line is paused while we review it; you cannot borrow for now.',
  },
  CLOSED: {
    zh: '您的额度已关闭，已有借款请按计划还款。',
    en: 'Your credit line is closed; please keep repaying existing loans as scheduled.',
  },
  REVOKED: {
    zh: '您的额度已被撤销，已有借款请按计划还款。',
    en: 'Your credit line has been withdrawn; please keep repaying existing loans as scheduled.',
  },
};

const APPEAL_WORDS = {
  zh: (days: number) =>
    `如有异议，可在 ${days} 天内通过 App 内“申诉”或客服提出申诉，并提供相关证明材料；您也有权要求对自动化决定作出说明并由人工复核（《个人信息保护法》第二十四条）。`,
  en: (days: number) =>
    `If you disagree, appeal within ${days} days through "Appeal" in the app or customer service and provide supporting documents; you may also ask for an explanation of an automated decision and for a person to review it (PIPL Art. 24).`,
};

const NOTHING_TO_APPEAL = {
  zh: '您的额度目前没有需要申诉的限制。',
  en: 'There is no restriction on your line to appeal.',
};

const NO_APPEAL_WORDS = {
  zh: '该决定依据法定要求作出，不适用申诉；如信息有误，请联系客服更正。',
  en: 'This decision follows a legal requirement and cannot be appealed; if your details are wrong, contact us to correct them.',
};

export interface LineExplanation {
  readonly lineId: string;
  readonly lang: ReasonLang;
  readonly status: string;
  readonly statusText: string;
  readonly limitMinor: number;
  readonly availableMinor: number;
  readonly currency: string;
  /** At most 4, most important first (Reg B practice; PIPL Art. 24). */
  readonly reasons: BorrowerReason[];
  readonly whatToDo: string[];
  readonly appeal: {
    readonly appealable: boolean;
    readonly deadline: string | null;
    readonly how: string;
  };
  readonly automated: boolean;
  readonly decidedAt: string | null;
}

/** The action whose reasons explain the line as it is now: the latest one that took effect, else the latest. */
function explainingAction(actions: readonly ActionRow[]): ActionRow | undefined {
  return actions.find((a) => a.outcome === 'APPLIED') ?? actions[0];
}

export async function explainLine(
  db: Q,
  kind: StoreKind,
  id: string,
  lang: ReasonLang,
  appealDays: number,
): Promise<LineExplanation> {
  const row = await findLine(db, kind, id);
  const action = explainingAction(await recentActions(db, id, 20));
  const reasons = action ? borrowerReasons(parseReasons(action.reasons), lang) : [];
  const appealable = action ? action.appealable === 1 : false;
  const told = action ? Number(action.notice_at ?? action.created_at) : null;
  return {
    lineId: row.id,
    lang,
    status: row.status,
    statusText: STATUS_WORDS[row.status as LineStatus][lang],
    limitMinor: Number(row.limit_minor),
    availableMinor: Number(row.available_minor),
    currency: row.currency,
    reasons,
    whatToDo: [...new Set(reasons.map((r) => r.action))],
    appeal: {
      appealable,
      deadline: appealable && told !== null ? iso(told + appealDays * MS_PER_DAY) : null,
      how: appealable
        ? APPEAL_WORDS[lang](appealDays)
        : reasons.length === 0
          ? NOTHING_TO_APPEAL[lang]
          : NO_APPEAL_WORDS[lang],
    },
    automated: action ? action.automated === 1 : false,
    decidedAt: action ? iso(Number(action.created_at)) : null,
  };
}
