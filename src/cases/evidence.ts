import {
  isSealedDataUnreadable,
  lineActionNoteShown,
  openAppeal,
  openComplaint,
} from '../compliance/index.js';
import type { AppealRow, CaseRow, ComplaintRow } from './records.js';
import type { CaseDeps } from './ports.js';

/**
 * What an analyst reads before deciding (issue 11): the decision trace, the events and feature values as of the
 * decision (the decision's stored context; an alert's firing features), list hits, entity links (other users the
 * alert tied to the borrower, the borrower's devices, other alerts) and the line's history.
 */
export async function gatherEvidence(deps: CaseDeps, row: CaseRow): Promise<Record<string, unknown>> {
  const db = deps.store.db;
  const evidence: Record<string, unknown> = {};
  const subject = await subjectEvidence(deps, row);
  Object.assign(evidence, subject);
  const decisionId = typeof subject.decisionId === 'string' ? subject.decisionId : undefined;
  if (decisionId) evidence.decision = await deps.decisions.evidence(decisionId);
  if (row.line_id) {
    evidence.lineHistory = (await deps.rows.lineHistory(db, row.line_id)).map((a) => ({
      id: a.id,
      type: a.type,
      outcome: a.outcome,
      reasons: JSON.parse(a.reasons) as unknown,
      automated: a.automated === 1,
      actor: a.actor,
      prevStatus: a.prev_status,
      newStatus: a.new_status,
      at: new Date(Number(a.created_at)).toISOString(),
    }));
  }
  if (row.borrower_id) {
    evidence.listHits = deps.monitor?.listHits(row.borrower_id) ?? [];
    evidence.entityLinks = {
      devices: await deps.rows.distinctDevicesOf(db, row.borrower_id),
      alerts: (await deps.rows.borrowerAlerts(db, row.borrower_id)).map((a) => ({
        alertId: a.alert_id,
        typology: a.typology_id,
        severity: a.severity,
        status: a.status,
        relatedUsers: (JSON.parse(a.evidence) as { relatedUsers?: unknown }).relatedUsers ?? [],
      })),
    };
  }
  return evidence;
}

async function subjectEvidence(deps: CaseDeps, row: CaseRow): Promise<Record<string, unknown>> {
  const db = deps.store.db;
  switch (row.type) {
    case 'REVIEW_APPLICATION': {
      const app = await deps.rows.applicationRow(db, row.subject_id);
      return { application: app ?? null, decisionId: app?.decision_id };
    }
    case 'HELD_DRAW': {
      const draw = await deps.rows.drawRow(db, row.subject_id);
      return { draw: draw ?? null, decisionId: draw?.decision_id };
    }
    case 'GUARD_HELD_ACTION': {
      const action = await deps.rows.lineActionRow(db, row.subject_id);
      return { heldAction: actionShown(deps, action), decisionId: action?.trace_id ?? undefined };
    }
    case 'ALERT': {
      const alert = await deps.rows.alertRow(db, row.subject_id);
      if (!alert) return { alert: null };
      const fired = JSON.parse(alert.evidence) as {
        eventIds?: string[];
        features?: unknown;
        rules?: unknown;
      };
      return {
        alert: { ...alert, evidence: fired, reasons: JSON.parse(alert.reasons) as unknown },
        // The events that fired the typology and the feature values it computed from them, as of the firing.
        events: await deps.rows.eventsByIds(db, fired.eventIds ?? []),
        features: fired.features ?? {},
      };
    }
    case 'REINSTATEMENT': {
      const action = await deps.rows.lineActionRow(db, row.subject_id);
      return { restriction: actionShown(deps, action), decisionId: action?.trace_id ?? undefined };
    }
    case 'APPEAL': {
      const appeal = await deps.rows.findAppeal(db, row.subject_id);
      const action =
        appeal?.target_kind === 'line_action'
          ? await deps.rows.lineActionRow(db, appeal.target_id)
          : undefined;
      return {
        appeal: appeal ? openedForCase(() => openAppeal(deps.crypto, appeal), appealSealed(appeal)) : null,
        appealedAction: actionShown(deps, action),
        decisionId: appeal?.target_kind === 'decision' ? appeal.target_id : (action?.trace_id ?? undefined),
      };
    }
    case 'COMPLAINT': {
      const complaint = await deps.rows.findComplaint(db, row.subject_id);
      return {
        complaint: complaint
          ? openedForCase(() => openComplaint(deps.crypto, complaint), complaintSealed(complaint))
          : null,
      };
    }
    default:
      return {};
  }
}

/** A line action as the case shows it: its note opened, or null and marked unreadable (compliance/sealed-line-actions.ts). */
function actionShown<R extends { readonly id: string; readonly note: string | null }>(
  deps: CaseDeps,
  action: R | undefined,
) {
  return action === undefined ? null : lineActionNoteShown(deps.crypto, action);
}

/**
 * A row whose texts are sealed at rest (compliance/sealed-cases.ts), as the case shows it: opened; or, when no held key
 * opens them, with those texts null and `unreadable` saying why, as an unreadable decision is shown: the case stays
 * readable, and never shows another row's texts.
 */
function openedForCase<R, S>(open: () => R, sealedOut: S): R | (S & { unreadable: string }) {
  try {
    return open();
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { ...sealedOut, unreadable: error.message };
  }
}

/** An appeal without the texts it keeps sealed. */
function appealSealed(row: AppealRow) {
  return { ...row, text: null, documents: null, outcome_zh: null, outcome_en: null };
}

/** A complaint without the texts it keeps sealed. */
function complaintSealed(row: ComplaintRow) {
  return { ...row, text: null, extension_reason: null, resolution_zh: null, resolution_en: null };
}
