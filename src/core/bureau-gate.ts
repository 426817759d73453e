import type { ContextValue, Outcome } from '../domain/index.js';
import { LgError } from '../domain/index.js';

/**
 * The core pulls bureau data itself (DESIGN: the core knows its own facts). At application the credit-report
 * attributes come only from a pull made under a valid LOAN_APPROVAL consent; a caller can never send them, and
 * without consent there is no pull and no approval: the application is referred with R_CONSENT_MISSING.
 */
export const BUREAU_FACT_NAMES = ['existingDebtMinor', 'externalDelinquent', 'inquiries30d'] as const;

export type ApplicationPull =
  | {
      readonly status: 'PULLED';
      readonly inquiryId: string;
      /** null when the bureau has no file on the subject (a thin file: the strategy sees the inputs missing). */
      readonly attributes: Readonly<Record<string, ContextValue>> | null;
    }
  | { readonly status: 'REFUSED'; readonly inquiryId: string; readonly code: string };

/** The bureau as the core sees it; wired in src/app to src/compliance's gateway. */
export interface ApplicationBureauPort {
  pullForApplication(subject: {
    readonly subjectHashes: readonly [string, ...string[]];
    readonly borrowerId: string | null;
  }): Promise<ApplicationPull>;
}

export interface BureauFacts {
  /** Every bureau name, as a derived fact (undefined when not pulled): reserved, so a caller cannot supply it. */
  readonly facts: Readonly<Record<string, ContextValue | undefined>>;
  readonly pull?: ApplicationPull;
}

export async function applicationBureauFacts(
  bureau: ApplicationBureauPort | undefined,
  attributes: Readonly<Record<string, unknown>>,
  subject: Parameters<ApplicationBureauPort['pullForApplication']>[0],
): Promise<BureauFacts> {
  if (!bureau) return { facts: {} };
  // Refuse a caller-supplied bureau attribute before any inquiry is made: a bad request must not cost a hard pull.
  const supplied = BUREAU_FACT_NAMES.filter((name) => Object.hasOwn(attributes, name));
  if (supplied.length > 0)
    throw new LgError(
      'LG_INVALID_ATTRIBUTE',
      `attributes ${supplied.join(', ')} come from the credit bureau and may not be sent`,
      { errors: supplied.map((input) => ({ input, problem: 'is derived by LineGuard from the bureau' })) },
    );
  const pull = await bureau.pullForApplication(subject);
  const facts: Record<string, ContextValue | undefined> = {};
  for (const name of BUREAU_FACT_NAMES) facts[name] = undefined;
  if (pull.status === 'PULLED' && pull.attributes) Object.assign(facts, pull.attributes);
  return { facts, pull };
}

/** The reason the bureau gate refers an application with (no pull), or undefined when it lets it through. */
export function bureauReferral(bureau: BureauFacts): string | undefined {
  const pull = bureau.pull;
  if (pull?.status !== 'REFUSED') return undefined;
  return pull.code === 'LG_INQUIRY_THROTTLED' ? 'R_INQUIRY_VELOCITY' : 'R_CONSENT_MISSING';
}

/** Without a pull the decision cannot stand: refer it (never approve) and say why. */
export function gateOnBureau<G extends { outcome: Outcome; reasons: string[]; adjustments: string[] }>(
  grant: G,
  bureau: BureauFacts,
): G {
  const pull = bureau.pull;
  const reason = bureauReferral(bureau);
  if (pull?.status !== 'REFUSED' || reason === undefined) return grant;
  return {
    ...grant,
    outcome: grant.outcome === 'DECLINE' ? 'DECLINE' : 'REVIEW',
    reasons: [reason, ...grant.reasons.filter((r) => r !== reason)],
    adjustments: [...grant.adjustments, `no credit-report inquiry (${pull.code}, inquiry ${pull.inquiryId})`],
    limitMinor: undefined,
    annualRate: undefined,
  };
}
