import type { AppServices } from '../../app/index.js';
import { resealIdempotencyRecords } from '../../api/index.js';
import { resealCaseTexts, resealDecisions, resealDraws, resealLineActionNotes } from '../../store/index.js';

/**
 * `lineguard keys rotate-data`: everything sealed under a retired master key sealed again under LINEGUARD_KEY (and the
 * consents and inquiries keyed by a retired key's hash of a borrower's national ID re-keyed to the current one), and
 * what was written in clear before its column was sealed (decision contexts, traces and results, dispute claims,
 * texts and outcomes, bureau submissions, draws' device, IP and payee, appeals' and complaints' texts, case notes,
 * pending changes' payloads, diffs, reasons and decision notes, line actions' notes) sealed now; a page per
 * transaction, each row compare-and-set on what was read, so it is safe to stop and rerun.
 */
export async function rotateData(app: AppServices, pageSize: number) {
  const borrowers = await app.core.rekeyBorrowers(pageSize);
  // After the borrowers: their consents and inquiries follow their national ID's hash to the current key.
  const subjects = await app.consents.rekeySubjects(pageSize);
  const partnerKeysResealed = await app.monitor.lists.resealPartnerKeys();
  const records = await resealIdempotencyRecords(app.store, app.crypto, pageSize);
  const decisions = await resealDecisions(app.store, app.crypto, pageSize);
  const disputes = await app.consents.disputes.reseal(pageSize);
  const submissions = await app.consents.reporting.reseal(pageSize);
  const draws = await resealDraws(app.store, app.crypto, pageSize);
  const caseTexts = await resealCaseTexts(app.store, app.crypto, pageSize);
  const actionNotes = await resealLineActionNotes(app.store, app.crypto, pageSize);
  return {
    ...borrowers,
    ...subjects,
    partnerKeysResealed,
    idempotencyRecordsChecked: records.recordsChecked,
    idempotencyRecordsResealed: records.recordsResealed,
    idempotencyRecordsUnopenable: records.recordsUnopenable,
    decisionsChecked: decisions.decisionsChecked,
    decisionsSealed: decisions.decisionsSealed,
    decisionsUnopenable: decisions.decisionsUnopenable,
    decisionResultsChecked: decisions.decisionResultsChecked,
    decisionResultsSealed: decisions.decisionResultsSealed,
    decisionResultsUnopenable: decisions.decisionResultsUnopenable,
    disputesChecked: disputes.disputesChecked,
    disputesSealed: disputes.disputesSealed,
    disputesUnopenable: disputes.disputesUnopenable,
    outcomesChecked: disputes.outcomesChecked,
    outcomesSealed: disputes.outcomesSealed,
    outcomesUnopenable: disputes.outcomesUnopenable,
    submissionsChecked: submissions.submissionsChecked,
    submissionsSealed: submissions.submissionsSealed,
    submissionsUnopenable: submissions.submissionsUnopenable,
    drawsChecked: draws.drawsChecked,
    drawsSealed: draws.drawsSealed,
    drawsUnopenable: draws.drawsUnopenable,
    ...caseTexts,
    ...actionNotes,
  };
}

export function describeRotation(r: Awaited<ReturnType<typeof rotateData>>): string {
  const lines = [
    `re-sealed ${r.borrowersRekeyed} of ${r.borrowersChecked} borrowers (re-keyed ${r.consentsRekeyed} consents and ${r.inquiriesRekeyed} credit-report inquiries), ${r.partnerKeysResealed} partner keys, ${r.idempotencyRecordsResealed} of ${r.idempotencyRecordsChecked} sealed idempotency records, ${r.decisionsSealed} of ${r.decisionsChecked} decisions, ${r.decisionResultsSealed} of ${r.decisionResultsChecked} decision results, ${r.disputesSealed} of ${r.disputesChecked} disputes, ${r.outcomesSealed} of ${r.outcomesChecked} dispute outcomes, ${r.submissionsSealed} of ${r.submissionsChecked} bureau submissions, ${r.drawsSealed} of ${r.drawsChecked} draws, ${r.appealsSealed} of ${r.appealsChecked} appeals, ${r.appealOutcomesSealed} of ${r.appealOutcomesChecked} appeal outcomes, ${r.complaintsSealed} of ${r.complaintsChecked} complaints, ${r.complaintExtensionsSealed} of ${r.complaintExtensionsChecked} complaint extensions and ${r.complaintResolutionsSealed} of ${r.complaintResolutionsChecked} complaint resolutions, ${r.caseNotesSealed} of ${r.caseNotesChecked} case notes, ${r.changeProposalsSealed} of ${r.changeProposalsChecked} pending-change proposals, ${r.changeReasonsSealed} of ${r.changeReasonsChecked} pending-change reasons, ${r.changeDecisionNotesSealed} of ${r.changeDecisionNotesChecked} pending-change decision notes and ${r.lineActionNotesSealed} of ${r.lineActionNotesChecked} line-action notes under key ${r.keyId}`,
  ];
  if (r.subjectsUnopenable > 0)
    lines.push(
      `left the consents and inquiries of ${r.subjectsUnopenable} borrowers whose sealed national ID no key opens under the hashes they have (found only while the key they were written under is held)`,
    );
  if (r.idempotencyRecordsUnopenable > 0)
    lines.push(
      `left ${r.idempotencyRecordsUnopenable} idempotency records no key opens as they are (a retry of one is told its write committed)`,
    );
  const unopenable =
    r.decisionsUnopenable + r.decisionResultsUnopenable + r.disputesUnopenable + r.outcomesUnopenable;
  if (unopenable > 0)
    lines.push(
      `left ${r.decisionsUnopenable} decisions, ${r.decisionResultsUnopenable} decision results, ${r.disputesUnopenable} disputes and ${r.outcomesUnopenable} dispute outcomes no key opens as they are (reading one answers LG_SEALED_DATA_UNREADABLE; \`ledger verify --against\` names them)`,
    );
  if (r.drawsUnopenable > 0)
    lines.push(
      `left ${r.drawsUnopenable} draws no key opens as they are (a case shows one marked originUnreadable; a held one cannot be released)`,
    );
  const caseTexts =
    r.appealsUnopenable +
    r.appealOutcomesUnopenable +
    r.complaintsUnopenable +
    r.complaintExtensionsUnopenable +
    r.complaintResolutionsUnopenable;
  if (caseTexts > 0)
    lines.push(
      `left ${r.appealsUnopenable} appeals, ${r.appealOutcomesUnopenable} appeal outcomes, ${r.complaintsUnopenable} complaints, ${r.complaintExtensionsUnopenable} complaint extensions and ${r.complaintResolutionsUnopenable} complaint resolutions no key opens as they are (reading one alone answers LG_SEALED_DATA_UNREADABLE; a list or a case shows it marked unreadable)`,
    );
  const caseWork =
    r.caseNotesUnopenable +
    r.changeProposalsUnopenable +
    r.changeReasonsUnopenable +
    r.changeDecisionNotesUnopenable;
  if (caseWork > 0)
    lines.push(
      `left ${r.caseNotesUnopenable} case notes, ${r.changeProposalsUnopenable} pending-change proposals, ${r.changeReasonsUnopenable} pending-change reasons and ${r.changeDecisionNotesUnopenable} pending-change decision notes no key opens as they are (a case or the change list shows one marked unreadable; such a change cannot be approved)`,
    );
  if (r.lineActionNotesUnopenable > 0)
    lines.push(
      `left ${r.lineActionNotesUnopenable} line-action notes no key opens as they are (a line's view or a case shows one marked noteUnreadable)`,
    );
  if (r.submissionsUnopenable > 0)
    lines.push(
      `left ${r.submissionsUnopenable} bureau submissions no key opens as they are (not sent until the key that sealed them is configured)`,
    );
  return `${lines.join('\n')}\n`;
}
