/**
 * Protected attributes: columns a credit model must not be trained on.
 *
 * Why: ECOA / Reg B (12 CFR 1002.2(z), 1002.6(b)) forbid taking a prohibited basis — race, colour, religion, national
 * origin, sex, marital status, age (beyond the capacity to contract) — into account in a credit decision; PIPL Art. 24
 * forbids unreasonable differential treatment in automated decisions; the EU AI Act (Annex III 5(b)) treats
 * creditworthiness scoring as high-risk with bias examination. Age stays usable for legal-capacity rules (at least 18)
 * in strategies, never as score points. German credit's `Personal` column encodes sex and marital status together
 * (A91–A95 in Statlog), and `ForeignWorker` is a national-origin proxy, so both are on the list.
 *
 * A protected column may still be named as an evaluation-only group column for the fairness section of the report.
 */

/** Column names are compared case-insensitively and without punctuation ("Marital_Status" = "maritalstatus"). */
export const DEFAULT_PROTECTED_ATTRIBUTES: readonly string[] = [
  'sex',
  'gender',
  'personal',
  'marital',
  'maritalstatus',
  'personalstatus',
  'ethnicity',
  'ethnic',
  'race',
  'religion',
  'age',
  'nationality',
  'nationalorigin',
  'foreignworker',
];

export const normaliseColumnName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The columns of `header` that are on the protected list (in header order). */
export function protectedColumns(
  header: readonly string[],
  list: readonly string[] = DEFAULT_PROTECTED_ATTRIBUTES,
): string[] {
  const protectedNames = new Set(list.map(normaliseColumnName));
  return header.filter((name) => protectedNames.has(normaliseColumnName(name)));
}
