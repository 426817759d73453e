import type { UnitGuard } from '../domain/index.js';
import { MS_PER_DAY, lenderDayOf, restsOnLegalRequirement } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import type { ReasonLang } from '../domain/index.js';
import {
  appendToLedger,
  isSealedDataUnreadable,
  openAppeal,
  openComplaint,
  sealAppealStatement,
  sealComplaintText,
  sealExtensionReason,
} from '../compliance/index.js';
import type { AppealRow, ComplaintRow } from './records.js';
import { notInForceRefusal, type AppealTarget } from './appeal-in-force.js';
import { assertNotAppealedBefore } from './appeal-once.js';
import { caseOpenedLedger } from './intake.js';
import { COMPLAINT_EXTENSION_MS, type ComplaintCategory } from './model.js';
import type { CaseDeps } from './ports.js';
import { newCaseRow } from './rows.js';

/**
 * The borrower's side (issue 11). Every read and write is scoped to the borrower the token speaks for: someone else's
 * line, appeal or complaint is 404, never 403, so a token cannot learn that an id exists.
 */
function notFound(what: string, id: string): LgError {
  return new LgError('LG_NOT_FOUND', `no ${what} ${id}`);
}

/** How long after being told a borrower may appeal (the core's explanation states the same deadline). */
export const APPEAL_WINDOW_DAYS_DEFAULT = 30;

export async function myLines(deps: CaseDeps, borrowerId: string) {
  const rows = await deps.rows.linesOfBorrower(deps.store.db, borrowerId);
  return {
    items: rows.map((r) => ({
      id: r.id,
      status: r.status,
      currency: r.currency,
      limitMinor: Number(r.limit_minor),
      availableMinor: Number(r.available_minor),
      outstandingPrincipalMinor: Number(r.outstanding_minor),
      annualRate: Number(r.annual_rate),
    })),
  };
}

async function ownLine(deps: CaseDeps, borrowerId: string, lineId: string) {
  const line = await deps.rows.lineRow(deps.store.db, lineId);
  if (!line || line.borrower_id !== borrowerId) throw notFound('line', lineId);
  return line;
}

const OPEN_APPEAL_WORDS = {
  zh: (deadline: string) => `您的申诉正在处理中，我们将在 ${deadline} 前答复；处理期间无需重复提交。`,
  en: (deadline: string) =>
    `Your appeal is being reviewed; we will answer by ${deadline}. You do not need to submit it again.`,
};

/** The core's explanation, and the borrower's open appeals on the line (the explanation reflects them). */
export async function myExplanation(deps: CaseDeps, borrowerId: string, lineId: string, lang: ReasonLang) {
  await ownLine(deps, borrowerId, lineId);
  const explanation = (await deps.core.explainLine(lineId, lang)) as Record<string, unknown> & {
    appeal?: Record<string, unknown>;
  };
  const open = await deps.rows.openAppealsOnLine(deps.store.db, lineId);
  if (open.length === 0) return { ...explanation, openAppeals: [] };
  // The day the borrower reads is the lender's (the deadline itself is an instant, shown with each appeal).
  const deadlineDay = lenderDayOf(deps.config, Number(open[0]?.deadline_at));
  return {
    ...explanation,
    appeal: { ...explanation.appeal, how: OPEN_APPEAL_WORDS[lang](deadlineDay), inProgress: true },
    openAppeals: open.map((a) => listedAppeal(deps, a, lang)),
  };
}

const isoOrNull = (ms: number | null): string | null =>
  ms === null ? null : new Date(Number(ms)).toISOString();

/** What an appeal shows besides the borrower's and the reviewer's words: stored in clear. */
function appealHeader(row: AppealRow) {
  return {
    id: row.id,
    lineId: row.line_id,
    target: { kind: row.target_kind, id: row.target_id },
    state: row.state,
    deadline: new Date(Number(row.deadline_at)).toISOString(),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    resolvedAt: isoOrNull(row.resolved_at),
  };
}

/** An appeal as the borrower sees it. */
export type AppealView = ReturnType<typeof appealView>;

/** `row` holds the texts as written (openAppeal opens a stored one: they are sealed at rest). */
export function appealView(row: AppealRow, lang?: ReasonLang) {
  const outcome = row.outcome_zh === null ? null : { zh: row.outcome_zh, en: row.outcome_en };
  return {
    ...appealHeader(row),
    outcome: outcome && lang ? { text: outcome[lang], ...outcome } : outcome,
    documents: JSON.parse(row.documents) as unknown,
  };
}

/**
 * A stored appeal as a list shows it. One whose sealed texts no held key opens (altered, copied from another row,
 * sealed under a key not configured) is marked unreadable with what is stored in clear, as a dispute list marks one:
 * it must not fail the borrower's whole list. Read on its own it answers LG_SEALED_DATA_UNREADABLE.
 */
function listedAppeal(deps: CaseDeps, row: AppealRow, lang: ReasonLang) {
  try {
    return appealView(openAppeal(deps.crypto, row), lang);
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { ...appealHeader(row), unreadable: true as const };
  }
}

export interface AppealInput {
  readonly actionId?: string;
  readonly decisionId?: string;
  readonly text: string;
  readonly documents?: readonly string[];
}

/**
 * The refusal of an appeal against an action not open to one: it follows a legal requirement only when one of its
 * reasons rests on one (restsOnLegalRequirement), as the borrower's explanation says; otherwise no ground is claimed.
 */
function notAppealable(reasonsJson: string): LgError {
  const parsed: unknown = JSON.parse(reasonsJson);
  const codes = Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  return new LgError(
    'LG_APPEAL_NOT_ALLOWED',
    restsOnLegalRequirement(codes)
      ? 'this action follows a legal requirement and cannot be appealed'
      : 'this action cannot be appealed',
  );
}

/** What the appeal is against, checked to belong to the borrower and to be appealable now. */
async function appealTarget(
  deps: CaseDeps,
  borrowerId: string,
  input: AppealInput,
  appealDays: number,
): Promise<AppealTarget> {
  const now = deps.clock.now();
  if ((input.actionId === undefined) === (input.decisionId === undefined))
    throw new LgError('LG_VALIDATION', 'appeal against exactly one of actionId or decisionId');
  if (input.actionId) {
    const action = await deps.rows.lineActionRow(deps.store.db, input.actionId);
    const line = action ? await deps.rows.lineRow(deps.store.db, action.line_id) : undefined;
    if (!action || !line || line.borrower_id !== borrowerId) throw notFound('line action', input.actionId);
    if (action.appealable !== 1) throw notAppealable(action.reasons);
    const told = Number(action.notice_at ?? action.created_at);
    if (now > told + appealDays * MS_PER_DAY)
      throw new LgError(
        'LG_APPEAL_NOT_ALLOWED',
        `the ${appealDays}-day window to appeal this action has closed`,
      );
    return { kind: 'line_action', id: action.id, lineId: action.line_id };
  }
  const decisionId = input.decisionId as string;
  const decision = await deps.rows.decisionOwner(deps.store.db, decisionId);
  if (!decision || decision.borrower_id !== borrowerId) throw notFound('decision', decisionId);
  if (now > Number(decision.decided_at) + appealDays * MS_PER_DAY)
    throw new LgError(
      'LG_APPEAL_NOT_ALLOWED',
      `the ${appealDays}-day window to appeal this decision has closed`,
    );
  return { kind: 'decision', id: decision.id, lineId: decision.line_id };
}

export async function fileAppeal(
  deps: CaseDeps,
  borrowerId: string,
  input: AppealInput,
  appealDays = APPEAL_WINDOW_DAYS_DEFAULT,
  guard?: UnitGuard<AppealView>,
) {
  const target = await appealTarget(deps, borrowerId, input, appealDays);
  const now = deps.clock.now();
  const id = deps.ids.next();
  const caseRow = newCaseRow(
    deps.ids.next(),
    { type: 'APPEAL', subjectId: id, lineId: target.lineId, borrowerId, since: now },
    deps.config.sla,
    now,
  );
  const documents = JSON.stringify(input.documents ?? []);
  // The borrower's words and documents are sealed in the row; the filed entry commits to the text.
  const { textHmac, ...statement } = sealAppealStatement(deps.crypto, id, { text: input.text, documents });
  const row: AppealRow = {
    id,
    borrower_id: borrowerId,
    line_id: target.lineId,
    target_kind: target.kind,
    target_id: target.id,
    ...statement,
    state: 'OPEN',
    deadline_at: caseRow.sla_due_at,
    outcome_zh: null,
    outcome_en: null,
    case_id: caseRow.id,
    created_at: now,
    resolved_at: null,
  };
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    // Whether it still stands, read under the line's lock (taken before the borrower's, in the core's order: line,
    // then borrower), so a reversal cannot commit between this read and the appeal.
    const notInForce = await notInForceRefusal(deps, tx, target);
    // One appeal per action, open or decided: filings of one borrower check and insert one after another, in every
    // process. An earlier appeal is the more specific answer (LG_CONFLICT, LG_APPEAL_ALREADY_DECIDED) whatever stands
    // on the line now; only a target never appealed is refused for no longer standing.
    await deps.rows.lockBorrower(tx, deps.store.kind, borrowerId);
    await assertNotAppealedBefore(deps, tx, borrowerId, target);
    if (notInForce) throw notInForce;
    await deps.rows.insertAppeal(tx, row);
    await deps.rows.insertCases(tx, [caseRow]);
    await appendToLedger(tx, [
      {
        entryId: `${id}:filed`,
        kind: 'appeal.filed',
        subjectId: id,
        recordedAt: now,
        payload: {
          appealId: id,
          borrowerId,
          target,
          caseId: caseRow.id,
          deadlineAt: row.deadline_at,
          textHmac,
        },
      },
      caseOpenedLedger(caseRow),
    ]);
    return appealView({ ...row, text: input.text, documents });
  }, guard);
}

export async function myAppeals(deps: CaseDeps, borrowerId: string, lang: ReasonLang) {
  return {
    items: (await deps.rows.appealsOf(deps.store.db, borrowerId, 100)).map((a) =>
      listedAppeal(deps, a, lang),
    ),
  };
}

export async function myAppeal(deps: CaseDeps, borrowerId: string, id: string, lang: ReasonLang) {
  const row = await deps.rows.findAppeal(deps.store.db, id);
  if (!row || row.borrower_id !== borrowerId) throw notFound('appeal', id);
  return appealView(openAppeal(deps.crypto, row), lang);
}

/** What a complaint shows besides the borrower's and the lender's words: stored in clear. */
function complaintHeader(row: ComplaintRow) {
  return {
    id: row.id,
    category: row.category,
    state: row.state,
    dueAt: new Date(Number(row.due_at)).toISOString(),
    extended: row.extended_at !== null,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    resolvedAt: isoOrNull(row.resolved_at),
  };
}

/** A complaint as the borrower sees it. */
export type ComplaintView = ReturnType<typeof complaintView>;

/** `row` holds the texts as written (openComplaint opens a stored one: they are sealed at rest). */
export function complaintView(row: ComplaintRow, lang?: ReasonLang) {
  const resolution = row.resolution_zh === null ? null : { zh: row.resolution_zh, en: row.resolution_en };
  return {
    ...complaintHeader(row),
    extensionReason: row.extension_reason,
    resolution: resolution && lang ? { text: resolution[lang], ...resolution } : resolution,
  };
}

/** A stored complaint as a list shows it: marked unreadable when its sealed texts cannot be opened (listedAppeal). */
function listedComplaint(deps: CaseDeps, row: ComplaintRow, lang: ReasonLang) {
  try {
    return complaintView(openComplaint(deps.crypto, row), lang);
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { ...complaintHeader(row), unreadable: true as const };
  }
}

/** A complaint is acknowledged at once with its deadline (15 days; NFRA consumer-complaint rules). */
export async function fileComplaint(
  deps: CaseDeps,
  borrowerId: string,
  input: { category: ComplaintCategory; text: string },
  guard?: UnitGuard<ComplaintView>,
) {
  const now = deps.clock.now();
  const id = deps.ids.next();
  const caseRow = newCaseRow(
    deps.ids.next(),
    { type: 'COMPLAINT', subjectId: id, borrowerId, since: now },
    deps.config.sla,
    now,
  );
  // The borrower's words are sealed in the row; the filed entry commits to them.
  const sealed = sealComplaintText(deps.crypto, id, input.text);
  const row: ComplaintRow = {
    id,
    borrower_id: borrowerId,
    category: input.category,
    text: sealed.text,
    state: 'OPEN',
    due_at: caseRow.sla_due_at,
    extended_at: null,
    extension_reason: null,
    resolution_zh: null,
    resolution_en: null,
    case_id: caseRow.id,
    created_at: now,
    resolved_at: null,
  };
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    await deps.rows.insertComplaint(tx, row);
    await deps.rows.insertCases(tx, [caseRow]);
    await appendToLedger(tx, [
      {
        entryId: `${id}:filed`,
        kind: 'complaint.filed',
        subjectId: id,
        recordedAt: now,
        payload: {
          complaintId: id,
          borrowerId,
          category: input.category,
          caseId: caseRow.id,
          dueAt: row.due_at,
          textHmac: sealed.textHmac,
        },
      },
      caseOpenedLedger(caseRow),
    ]);
    return complaintView({ ...row, text: input.text });
  }, guard);
}

export async function myComplaints(deps: CaseDeps, borrowerId: string, lang: ReasonLang) {
  return {
    items: (await deps.rows.complaintsOf(deps.store.db, borrowerId, 100)).map((c) =>
      listedComplaint(deps, c, lang),
    ),
  };
}

export async function myComplaint(deps: CaseDeps, borrowerId: string, id: string, lang: ReasonLang) {
  const row = await deps.rows.findComplaint(deps.store.db, id);
  if (!row || row.borrower_id !== borrowerId) throw notFound('complaint', id);
  return complaintView(openComplaint(deps.crypto, row), lang);
}

/**
 * Extends a complaint's deadline once by 15 days, with a recorded reason (the rule allows one extension), while the
 * deadline has not passed: an extension is granted before the day it moves, and one granted after would move the due
 * date past a deadline already missed, so that the breach (not yet swept) was never recorded. A late one is refused
 * (409 LG_CASE_TRANSITION_ILLEGAL, details.dueAt) and the breach stands.
 */
export async function extendComplaint(
  deps: CaseDeps,
  caseId: string,
  input: { reason: string; actor: string },
  guard?: UnitGuard<ComplaintView>,
): Promise<ComplaintView> {
  const now = deps.clock.now();
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    const row = await deps.rows.findCase(tx, deps.store.kind, caseId, true);
    if (row.type !== 'COMPLAINT')
      throw new LgError('LG_CASE_OUTCOME_INVALID', 'only a complaint case can be extended', { caseId });
    const complaint = await deps.rows.findComplaint(tx, row.subject_id);
    if (!complaint) throw notFound('complaint', row.subject_id);
    if (complaint.extended_at !== null)
      throw new LgError('LG_COMPLAINT_ALREADY_EXTENDED', 'a complaint deadline can be extended only once', {
        caseId,
      });
    if (complaint.state !== 'OPEN')
      throw new LgError('LG_CASE_TRANSITION_ILLEGAL', 'the complaint is resolved', { caseId });
    if (now > Number(complaint.due_at))
      throw new LgError(
        'LG_CASE_TRANSITION_ILLEGAL',
        "the complaint's deadline has passed: it can no longer be extended, and the breach stands",
        { caseId, dueAt: new Date(Number(complaint.due_at)).toISOString() },
      );
    const due = Number(complaint.due_at) + COMPLAINT_EXTENSION_MS;
    // The lender's reason is sealed in the row; the extended entry commits to it instead of holding it.
    const { extension_reason, reasonHmac } = sealExtensionReason(deps.crypto, complaint.id, input.reason);
    await deps.rows.updateComplaint(
      tx,
      complaint.id,
      { state: 'OPEN', extended: 'no' },
      { due_at: due, extended_at: now, extension_reason },
    );
    // The case's SLA moves with it; a breach already recorded stays recorded.
    await deps.rows.updateCase(tx, row.id, row.state, { sla_due_at: due, updated_at: now });
    await appendToLedger(tx, [
      {
        entryId: `${complaint.id}:extended`,
        kind: 'complaint.extended',
        subjectId: complaint.id,
        recordedAt: now,
        payload: { complaintId: complaint.id, caseId, dueAt: due, reasonHmac, by: input.actor },
      },
    ]);
    // The view shows no text but the reason (an open complaint has no resolution): nothing else is opened for it.
    return complaintView({ ...complaint, due_at: due, extended_at: now, extension_reason: input.reason });
  }, guard);
}
