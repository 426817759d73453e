import { getReason, isKnownReason } from '../domain/index.js';
import { openCases } from './intake.js';
import type { CaseDeps } from './ports.js';
import type { NewCase } from './rows.js';

/**
 * The case side of "restrictions are never permanent by neglect" (issue 11): a line restricted for fraud whose alerts
 * were all disposed FALSE_POSITIVE (and none is still open or confirmed) has lost its cause. Lifting a fraud
 * restriction is a four-eyes operation, so policy wants a person: a REINSTATEMENT case is opened (one per restriction).
 */
function isFraudReason(code: string): boolean {
  return isKnownReason(code) && getReason(code).category === 'fraud';
}

export async function openReinstatementCases(deps: CaseDeps): Promise<number> {
  const restricted = await deps.core.restrictedLines();
  const found: NewCase[] = [];
  for (const r of restricted) {
    if (!r.restrictionId || !r.reasons.some(isFraudReason)) continue;
    const alerts = await deps.intake.alertCaseOutcomes(r.borrowerId, 200);
    const cleared =
      alerts.length > 0 &&
      alerts.every((a) => a.state === 'RESOLVED' && a.outcome !== 'CONFIRMED_FRAUD') &&
      alerts.some((a) => a.outcome === 'FALSE_POSITIVE');
    if (!cleared) continue;
    found.push({
      type: 'REINSTATEMENT',
      subjectId: r.restrictionId,
      lineId: r.lineId,
      borrowerId: r.borrowerId,
      since: deps.clock.now(),
    });
  }
  return openCases(deps, { cases: found });
}
