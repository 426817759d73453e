import { isoDay, lenderDayOf, MS_PER_DAY, parseIsoDay } from '../domain/index.js';
import { bucketFor, daysPastDue, DEFAULT_BUCKETS, type DelinquencyBucket } from '../domain/index.js';
import { formatMoney } from '../domain/index.js';
import { RESTRICTIVE_ACTIONS, type LineStatus } from '../domain/index.js';
import { borrowerReasons, restsOnLegalRequirement } from '../domain/index.js';
import type { BorrowerReason, ReasonLang } from '../domain/index.js';
import { findBorrower, maskBorrower, type MaskedBorrower } from './borrowers.js';
import { parseReasons } from './repo.js';
import type { ActionRow, LineRow } from './ports.js';
import type { CoreStore } from './ports.js';
import type { CoreDeps } from './deps.js';
import { lineActionNoteShown, type FieldCrypto } from '../compliance/index.js';

/**
 * A line action as the line's view shows it. Here rather than in lines.ts: lines.ts prices a new rate through
 * products.ts and draws.ts, which read this file, and an import back would be a cycle.
 */
export interface ActionView {
  readonly id: string;
  readonly type: string;
  readonly outcome: string;
  readonly reasons: string[];
  readonly traceId: string | null;
  readonly automated: boolean;
  readonly actor: string | null;
  readonly appealable: boolean;
  readonly noticeAt: string | null;
  readonly prevStatus: string;
  readonly newStatus: string;
  readonly prevLimitMinor: number;
  readonly newLimitMinor: number;
  readonly prevAnnualRate: number;
  readonly newAnnualRate: number;
  /** The note as written (sealed at rest); null without one, or when no held key opens it (noteUnreadable says why). */
  readonly note: string | null;
  readonly noteUnreadable?: string;
  readonly at: string;
}

/** The action as the line's view shows it, its note opened (compliance/sealed-line-actions.ts) or marked unreadable. */
export function actionView(stored: ActionRow, crypto: FieldCrypto): ActionView {
  const row = lineActionNoteShown(crypto, stored);
  return {
    id: row.id,
    type: row.type,
    outcome: row.outcome,
    reasons: parseReasons(row.reasons),
    traceId: row.trace_id,
    automated: row.automated === 1,
    actor: row.actor,
    appealable: row.appealable === 1,
    noticeAt: row.notice_at === null ? null : new Date(Number(row.notice_at)).toISOString(),
    prevStatus: row.prev_status,
    newStatus: row.new_status,
    prevLimitMinor: Number(row.prev_limit_minor),
    newLimitMinor: Number(row.new_limit_minor),
    prevAnnualRate: Number(row.prev_rate),
    newAnnualRate: Number(row.new_rate),
    note: row.note,
    ...(row.noteUnreadable === undefined ? {} : { noteUnreadable: row.noteUnreadable }),
    at: new Date(Number(row.created_at)).toISOString(),
  };
}

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

export function lineViewOf(
  row: LineRow,
  borrower: MaskedBorrower,
  actions: { readonly rows: readonly ActionRow[]; readonly crypto: FieldCrypto },
): LineView {
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
    recentActions: actions.rows.map((action) => actionView(action, actions.crypto)),
    createdAt: iso(Number(row.created_at)),
    updatedAt: iso(Number(row.updated_at)),
  };
}

/** How many of a line's latest actions its view shows. */
const RECENT_ACTIONS = 10;

export async function readLine(deps: Pick<CoreDeps, 'coreStore' | 'crypto'>, id: string): Promise<LineView> {
  const row = await deps.coreStore.line(id);
  const [borrower, actions] = await Promise.all([
    findBorrower(deps.coreStore, row.borrower_id),
    deps.coreStore.recentActions(id, RECENT_ACTIONS),
  ]);
  return lineViewOf(row, maskBorrower(borrower, deps.crypto), { rows: actions, crypto: deps.crypto });
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

/** Only for a decision given a reason that rests on a legal requirement (restsOnLegalRequirement). */
const NO_APPEAL_WORDS = {
  zh: '该决定依据法定要求作出，不适用申诉；如信息有误，请联系客服更正。',
  en: 'This decision follows a legal requirement and cannot be appealed; if your details are wrong, contact us to correct them.',
};

/** A restriction not open to appeal whose reasons name no legal requirement: no law is claimed for it. */
const NOT_APPEALABLE_WORDS = {
  zh: '该决定不适用申诉；如有疑问或认为信息有误，请联系客服。',
  en: 'This decision cannot be appealed; if you have questions or think your details are wrong, contact us.',
};

/** The in-app appeal channel a borrower is pointed to (the appeals API serves it). */
export const APPEAL_PATH = '/v1/me/appeals';

export const APPEAL_DAYS_DEFAULT = 30;

/** Who took the action a borrower is told about. */
export type ActionBy = 'automated' | 'person' | 'borrower';

/** The figures behind an explanation: what is overdue, what changed, who changed it when, and by when to act. */
export interface ExplanationSpecifics {
  readonly overdue: {
    readonly amountMinor: number;
    readonly days: number;
    /** The oldest unpaid instalment's due date (YYYY-MM-DD). */
    readonly oldestDueDate: string;
  } | null;
  readonly limit: { readonly beforeMinor: number; readonly afterMinor: number } | null;
  readonly action: {
    /** The line action's id: what the borrower's appeal is filed against (POST /v1/me/appeals {actionId}). */
    readonly id: string;
    readonly type: string;
    readonly at: string;
    readonly by: ActionBy;
    /**
     * The job or rule set behind an automated action (e.g. `strategy:line-review`, `monitor`); null for a person's
     * (the borrower is told a person acted, not which staff member) and for a request keyed in for the borrower.
     */
    readonly actor: string | null;
    /** The decision that produced it (automated), or that a person applied. */
    readonly decisionId: string | null;
  } | null;
  /**
   * The last day to repay the overdue amount before the arrears reach the next delinquency bucket (the current
   * bucket's last day); today when already in the last bucket; null when nothing is overdue.
   */
  readonly repayBy: string | null;
}

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
  /** One sentence with the borrower's own figures: who did what when, the limit before and after, what is overdue. */
  readonly summary: string;
  readonly whatToDo: string[];
  readonly appeal: {
    readonly appealable: boolean;
    readonly deadline: string | null;
    readonly how: string;
    readonly path: string;
  };
  readonly automated: boolean;
  readonly decidedAt: string | null;
  readonly specifics: ExplanationSpecifics;
}

/**
 * The action whose reasons explain the line as it is now: the latest one that took effect, else the latest. A lift
 * that left the line restricted (a suspension lifted back to the freeze beneath it, a freeze beneath a suspension
 * lifted) explains nothing of why it is still restricted: the restriction in force does, with its own reasons.
 */
async function explainingAction(
  row: LineRow,
  store: ExplainOptions['store'],
): Promise<ActionRow | undefined> {
  const actions = await store.recentActions(row.id, 20);
  const latest = actions.find((a) => a.outcome === 'APPLIED') ?? actions[0];
  const restricted = row.status === 'DRAW_FROZEN' || row.status === 'SUSPENDED';
  if (!latest || !restricted || (latest.type !== 'UNFREEZE' && latest.type !== 'REINSTATE')) return latest;
  return (await store.restrictionOf(row)) ?? latest;
}

export interface ExplainOptions {
  readonly appealDays: number;
  /** Now (epoch ms): what is overdue is counted as of today. */
  readonly now: number;
  /** The lender's calendar (CoreConfig.lenderUtcOffsetMinutes): "today" is the date there. */
  readonly lenderUtcOffsetMinutes?: number;
  readonly buckets?: readonly DelinquencyBucket[];
  /** Where the line, its actions and its overdue instalments are read. */
  readonly store: Pick<CoreStore, 'line' | 'recentActions' | 'restrictionOf' | 'unsettledInstalmentsOfLine'>;
}

export async function explainLine(
  id: string,
  lang: ReasonLang,
  options: ExplainOptions,
): Promise<LineExplanation> {
  const { appealDays } = options;
  const row = await options.store.line(id);
  const action = await explainingAction(row, options.store);
  const codes = action ? parseReasons(action.reasons) : [];
  const reasons = borrowerReasons(codes, lang);
  const by = action ? actionBy(action, codes) : null;
  const appealable = action ? action.appealable === 1 : false;
  const told = action ? Number(action.notice_at ?? action.created_at) : null;
  const specifics = await specificsOf(row, action, options);
  const words = { lang, currency: row.currency };
  return {
    lineId: row.id,
    lang,
    status: row.status,
    statusText:
      by === 'borrower'
        ? (AT_YOUR_REQUEST_STATUS[row.status as LineStatus]?.[lang] ??
          STATUS_WORDS[row.status as LineStatus][lang])
        : STATUS_WORDS[row.status as LineStatus][lang],
    limitMinor: Number(row.limit_minor),
    availableMinor: Number(row.available_minor),
    currency: row.currency,
    reasons,
    summary: summaryOf(specifics, words, action ? lenderDayOf(options, Number(action.created_at)) : null),
    whatToDo: [...repayWords(specifics, words), ...new Set(reasons.map((r) => r.action))],
    appeal: {
      appealable,
      deadline: appealable && told !== null ? iso(told + appealDays * MS_PER_DAY) : null,
      how:
        by === 'borrower'
          ? AT_YOUR_REQUEST_APPEAL[lang]
          : appealable
            ? APPEAL_WORDS[lang](appealDays)
            : noAppealWords(row.status, action, codes)[lang],
      path: APPEAL_PATH,
    },
    automated: action ? action.automated === 1 : false,
    decidedAt: action ? iso(Number(action.created_at)) : null,
    specifics,
  };
}

/**
 * Why an action the borrower may not appeal cannot be: a legal requirement only when one of its reasons rests on one;
 * nothing to appeal when it gave no reasons, or took nothing away from a line left unrestricted (a grant, a raise, a
 * lift); otherwise that it is not open to appeal, with no ground claimed that its reasons do not give.
 */
function noAppealWords(
  status: string,
  action: ActionRow | undefined,
  codes: readonly string[],
): { zh: string; en: string } {
  if (restsOnLegalRequirement(codes)) return NO_APPEAL_WORDS;
  const unrestricted = (status === 'ACTIVE' || status === 'PENDING') && !isRestrictive(action?.type);
  if (codes.length === 0 || unrestricted) return NOTHING_TO_APPEAL;
  return NOT_APPEALABLE_WORDS;
}

function isRestrictive(type: string | undefined): boolean {
  return (RESTRICTIVE_ACTIONS as ReadonlySet<string>).has(type ?? '');
}

/** A borrower's own request (R_BORROWER_REQUEST) is theirs, whoever keyed it in; else the automation or a person. */
function actionBy(action: ActionRow, codes: readonly string[]): ActionBy {
  if (codes.includes('R_BORROWER_REQUEST')) return 'borrower';
  return action.automated === 1 ? 'automated' : 'person';
}

async function specificsOf(
  row: LineRow,
  action: ActionRow | undefined,
  options: ExplainOptions,
): Promise<ExplanationSpecifics> {
  const overdue = await overdueOf(options.store, row.id, todayOf(options));
  return {
    overdue,
    limit: action
      ? { beforeMinor: Number(action.prev_limit_minor), afterMinor: Number(action.new_limit_minor) }
      : null,
    action: action ? actionSpecifics(action) : null,
    repayBy: overdue ? repayByOf(overdue, options) : null,
  };
}

/**
 * Who acted, as the borrower is told: automation with its actor and decision; a person as "a person" (never which
 * staff member: their user id is the lender's, as the partner's view of the same action keeps it too), with the
 * decision they applied if any; the borrower's own request as theirs, naming the actor only when it is the borrower.
 */
function actionSpecifics(action: ActionRow): NonNullable<ExplanationSpecifics['action']> {
  const by = actionBy(action, parseReasons(action.reasons));
  const actor =
    by === 'automated' || (by === 'borrower' && action.actor?.startsWith('borrower:') === true)
      ? action.actor
      : null;
  return {
    id: action.id,
    type: action.type,
    at: iso(Number(action.created_at)),
    by,
    actor,
    decisionId: action.trace_id,
  };
}

/** What is overdue on the line today: every unpaid amount of instalments due before today, and the oldest date. */
async function overdueOf(
  store: ExplainOptions['store'],
  lineId: string,
  today: string,
): Promise<ExplanationSpecifics['overdue']> {
  const rows = await store.unsettledInstalmentsOfLine(lineId, today);
  const items = rows
    .map((i) => ({ dueDate: i.due_date, outstandingMinor: unpaidOf(i) }))
    .filter((i) => i.outstandingMinor > 0);
  if (items.length === 0) return null;
  const oldestDueDate = items.reduce((a, b) => (b.dueDate < a ? b.dueDate : a), items[0]?.dueDate ?? today);
  return {
    amountMinor: items.reduce((sum, i) => sum + i.outstandingMinor, 0),
    days: daysPastDue(items, today),
    oldestDueDate,
  };
}

function unpaidOf(i: {
  principal_minor: number;
  paid_principal_minor: number;
  interest_minor: number;
  paid_interest_minor: number;
  fee_minor: number;
  paid_fee_minor: number;
}): number {
  return (
    Number(i.principal_minor) -
    Number(i.paid_principal_minor) +
    Number(i.interest_minor) -
    Number(i.paid_interest_minor) +
    Number(i.fee_minor) -
    Number(i.paid_fee_minor)
  );
}

function todayOf(options: ExplainOptions): string {
  return lenderDayOf(options, options.now);
}

/** The current bucket's last day (the oldest due date + the bucket's maxDays); today in the open-ended last bucket. */
function repayByOf(overdue: NonNullable<ExplanationSpecifics['overdue']>, options: ExplainOptions): string {
  const bucket = bucketFor(overdue.days, options.buckets ?? DEFAULT_BUCKETS);
  const oldest = parseIsoDay(overdue.oldestDueDate);
  if (bucket.maxDays === null || oldest === undefined) return todayOf(options);
  return isoDay(oldest + bucket.maxDays);
}

interface Words {
  readonly lang: ReasonLang;
  readonly currency: string;
}

const ACTION_WORDS: Record<string, { zh: string; en: string }> = {
  GRANT: { zh: '开通了您的额度', en: 'granted your credit line' },
  LIMIT_INCREASE: { zh: '提高了您的额度', en: 'raised your limit' },
  LIMIT_DECREASE: { zh: '降低了您的额度', en: 'lowered your limit' },
  TEMP_LIMIT: { zh: '为您设置了临时额度', en: 'set a temporary limit on your line' },
  RATE_CHANGE: { zh: '调整了您的利率', en: 'changed your interest rate' },
  FREEZE_DRAW: { zh: '暂停了您的借款功能', en: 'paused borrowing from your line' },
  UNFREEZE: { zh: '恢复了您的借款功能', en: 'resumed borrowing from your line' },
  SUSPEND: { zh: '暂停了您的额度服务', en: 'suspended your credit line' },
  REINSTATE: { zh: '恢复了您的额度服务', en: 'reinstated your credit line' },
  CLOSE: { zh: '关闭了您的额度', en: 'closed your credit line' },
};

function byWords(action: NonNullable<ExplanationSpecifics['action']>, lang: ReasonLang): string {
  if (action.by === 'borrower') return lang === 'zh' ? '根据您的申请，我们' : 'at your request, we';
  if (action.by === 'person') return lang === 'zh' ? '我们的审核人员' : 'our reviewer';
  const source = automatedSourceWords(action.actor)[lang];
  return lang === 'zh' ? `系统自动风控（${source}）` : `our automated risk control (${source})`;
}

/**
 * Which automated part acted, in the borrower's words (the actor ids are ours: `strategy:application`, `monitor`,
 * `job:review:2026-03-01`). Before, the id itself was shown, or "risk strategy" for the fraud monitor's freezes, which
 * recorded no actor.
 */
function automatedSourceWords(actor: string | null): { zh: string; en: string } {
  if (actor === 'monitor') return { zh: '反欺诈监测', en: 'fraud monitoring' };
  if (actor?.startsWith('job:review')) return { zh: '定期额度复核', en: 'periodic line review' };
  if (actor?.startsWith('job:')) return { zh: '系统定时检查', en: 'a scheduled check' };
  return { zh: '风控策略', en: 'risk strategy' };
}

function fmt(amountMinor: number, currency: string): string {
  return formatMoney({ amountMinor, currency });
}

/**
 * "On <date>, <who> <did what> from <limit> to <limit>. You have <amount> overdue, <n> days past due …"; `actionDay`:
 * the action's date on the lender's calendar (its instant, specifics.action.at, is UTC).
 */
function summaryOf(specifics: ExplanationSpecifics, words: Words, actionDay: string | null): string {
  const { lang, currency } = words;
  const parts: string[] = [];
  const { action, limit, overdue } = specifics;
  if (action && actionDay !== null) {
    const what = ACTION_WORDS[action.type] ?? {
      zh: `执行了 ${action.type}`,
      en: `applied ${action.type} to your line`,
    };
    const changed = limit !== null && limit.beforeMinor !== limit.afterMinor;
    parts.push(
      lang === 'zh'
        ? `${actionDay}，${byWords(action, lang)}${what.zh}${changed ? `，额度由 ${fmt(limit.beforeMinor, currency)} 调整为 ${fmt(limit.afterMinor, currency)}` : ''}。`
        : `On ${actionDay}, ${byWords(action, lang)} ${what.en}${changed ? ` from ${fmt(limit.beforeMinor, currency)} to ${fmt(limit.afterMinor, currency)}` : ''}.`,
    );
  }
  if (overdue) {
    parts.push(
      lang === 'zh'
        ? `您目前有逾期未还款项 ${fmt(overdue.amountMinor, currency)}，已逾期 ${overdue.days} 天（最早一期应还日 ${overdue.oldestDueDate}）。`
        : `You have ${fmt(overdue.amountMinor, currency)} overdue, ${overdue.days} days past due (oldest instalment due ${overdue.oldestDueDate}).`,
    );
  }
  return parts.join(lang === 'zh' ? '' : ' ');
}

/** What to do about arrears, with the amount and the date. */
function repayWords(specifics: ExplanationSpecifics, words: Words): string[] {
  const { overdue, repayBy } = specifics;
  if (!overdue || !repayBy) return [];
  const amount = fmt(overdue.amountMinor, words.currency);
  return [
    words.lang === 'zh'
      ? `请于 ${repayBy} 前还清逾期款项 ${amount}（已逾期 ${overdue.days} 天），以免逾期进一步升级。`
      : `Repay the overdue ${amount} (${overdue.days} days past due) by ${repayBy} so the arrears do not grow further.`,
  ];
}

const AT_YOUR_REQUEST_STATUS: Partial<Record<LineStatus, { zh: string; en: string }>> = {
  CLOSED: {
    zh: '您的额度已根据您的申请关闭，已有借款请按计划还款。',
    en: 'Your credit line was closed at your request; please keep repaying existing loans as scheduled.',
  },
  DRAW_FROZEN: {
    zh: '根据您的申请，您的额度暂停借款，已有借款按原计划还款即可。',
    en: 'Borrowing from your line is paused at your request; keep repaying existing loans as scheduled.',
  },
};

const AT_YOUR_REQUEST_APPEAL = {
  zh: '这是根据您本人的申请作出的调整，无需申诉；如需重新使用额度，可在 App 内重新申请。',
  en: 'This change was made at your own request, so there is nothing to appeal; to use a credit line again, apply in the app.',
};

/** What a declined applicant is told, in one language: the reasons, what to do, and how to appeal by when. */
export interface DeclineExplanation {
  readonly reasons: BorrowerReason[];
  readonly whatToDo: string[];
  readonly appeal: {
    readonly appealable: boolean;
    readonly deadline: string | null;
    readonly how: string;
    readonly path: string;
  };
}

/**
 * A decision's reasons as the borrower reads them (at most four, the catalogue's texts), in Chinese and English: what
 * every answer that gives a borrower reasons carries (`borrowerReasonsByLang`), in the shape of a declined
 * application's `explanation`.
 */
export function reasonsInBothLanguages(codes: readonly string[]): Record<ReasonLang, BorrowerReason[]> {
  return { zh: borrowerReasons(codes, 'zh'), en: borrowerReasons(codes, 'en') };
}

/**
 * A declined application's explanation in both languages (PIPL Art. 24: explanation and a way to contest). It can be
 * appealed unless none of its reasons can and one rests on a legal requirement; only then is the borrower told so.
 */
export function declineExplanation(
  codes: readonly string[],
  decidedAt: number,
  appealDays: number,
): Record<ReasonLang, DeclineExplanation> {
  const both = reasonsInBothLanguages(codes);
  const shown = both.zh.map((r) => r.code);
  const appealable = both.zh.some((r) => r.appealable) || !restsOnLegalRequirement(shown);
  const one = (lang: ReasonLang): DeclineExplanation => {
    const reasons = both[lang];
    return {
      reasons,
      whatToDo: [...new Set(reasons.map((r) => r.action))],
      appeal: {
        appealable,
        deadline: appealable ? iso(decidedAt + appealDays * MS_PER_DAY) : null,
        how: appealable ? APPEAL_WORDS[lang](appealDays) : NO_APPEAL_WORDS[lang],
        path: APPEAL_PATH,
      },
    };
  };
  return { zh: one('zh'), en: one('en') };
}
