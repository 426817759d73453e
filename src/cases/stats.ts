import type { CaseRow } from './records.js';
import { DISPOSITIONS, slaKeyOfCase, type Disposition, type SlaPolicy } from './model.js';

/**
 * Dispositions are labels (issue 11): per typology and per rule, how many alerts, how they were disposed, and the
 * measured false-positive rate — FALSE_POSITIVE over the conclusive dispositions (CONFIRMED_FRAUD, FALSE_POSITIVE,
 * CUSTOMER_ERROR); INCONCLUSIVE and undisposed alerts are left out of the rate, since they say nothing either way.
 * Per case type: time to resolve against the SLA.
 */
export interface LabelStats {
  readonly alerts: number;
  readonly dispositions: Record<Disposition, number>;
  readonly undisposed: number;
  /** null while no alert has a conclusive disposition. */
  readonly falsePositiveRate: number | null;
}

export interface TypeStats {
  readonly cases: number;
  readonly resolved: number;
  readonly resolvedWithinSla: number;
  readonly breached: number;
  readonly meanMsToResolve: number | null;
  readonly medianMsToResolve: number | null;
  /**
   * The SLA the policy sets for these cases (the median, where a type has more than one: a critical ALERT's is 1 hour,
   * another's 24). Not sla_due_at − created_at: the SLA runs from when the machine left the work (a decision, an
   * alert), before the case row is created (a few milliseconds, or until an intake sweep), which the row does not keep;
   * and a complaint's one extension moves its due time, not the policy. Whether each case met its own due time is
   * resolvedWithinSla and breached.
   */
  readonly slaMs: number | null;
}

export interface CaseStats {
  readonly byTypology: Record<string, LabelStats>;
  readonly byRule: Record<string, LabelStats>;
  readonly byType: Record<string, TypeStats>;
  readonly rowsRead: number;
  readonly truncated: boolean;
}

function emptyLabels(): { alerts: number; dispositions: Record<Disposition, number>; undisposed: number } {
  return {
    alerts: 0,
    dispositions: Object.fromEntries(DISPOSITIONS.map((d) => [d, 0])) as Record<Disposition, number>,
    undisposed: 0,
  };
}

function count(into: Map<string, ReturnType<typeof emptyLabels>>, key: string, outcome: string | null): void {
  let s = into.get(key);
  if (!s) into.set(key, (s = emptyLabels()));
  s.alerts += 1;
  if (outcome !== null && (DISPOSITIONS as readonly string[]).includes(outcome))
    s.dispositions[outcome as Disposition] += 1;
  else s.undisposed += 1;
}

function finish(s: ReturnType<typeof emptyLabels>): LabelStats {
  const d = s.dispositions;
  const conclusive = d.CONFIRMED_FRAUD + d.FALSE_POSITIVE + d.CUSTOMER_ERROR;
  return { ...s, falsePositiveRate: conclusive === 0 ? null : d.FALSE_POSITIVE / conclusive };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function computeStats(
  rows: readonly CaseRow[],
  options: { readonly truncated: boolean; readonly sla: SlaPolicy },
): CaseStats {
  const byTypology = new Map<string, ReturnType<typeof emptyLabels>>();
  const byRule = new Map<string, ReturnType<typeof emptyLabels>>();
  const byType = new Map<string, { rows: CaseRow[] }>();
  for (const row of rows) {
    const bucket = byType.get(row.type) ?? { rows: [] };
    bucket.rows.push(row);
    byType.set(row.type, bucket);
    if (row.type !== 'ALERT') continue;
    count(byTypology, row.typology_id ?? 'unknown', row.outcome);
    for (const rule of JSON.parse(row.rule_ids) as string[])
      count(byRule, `${row.typology_id ?? 'unknown'}/${rule}`, row.outcome);
  }
  return {
    byTypology: Object.fromEntries([...byTypology].map(([k, v]) => [k, finish(v)])),
    byRule: Object.fromEntries([...byRule].map(([k, v]) => [k, finish(v)])),
    byType: Object.fromEntries([...byType].map(([k, v]) => [k, typeStats(v.rows, options.sla)])),
    rowsRead: rows.length,
    truncated: options.truncated,
  };
}

function typeStats(rows: readonly CaseRow[], sla: SlaPolicy): TypeStats {
  const resolved = rows.filter((r) => r.resolved_at !== null);
  const durations = resolved.map((r) => Number(r.resolved_at) - Number(r.created_at));
  const policy: Readonly<Record<string, number | undefined>> = sla;
  const slas = rows.map((r) => policy[slaKeyOfCase(r)]).filter((ms): ms is number => ms !== undefined);
  return {
    cases: rows.length,
    resolved: resolved.length,
    resolvedWithinSla: resolved.filter((r) => Number(r.resolved_at) <= Number(r.sla_due_at)).length,
    breached: rows.filter((r) => Number(r.sla_breached) === 1).length,
    meanMsToResolve: durations.length === 0 ? null : durations.reduce((a, b) => a + b, 0) / durations.length,
    medianMsToResolve: median(durations),
    slaMs: median(slas),
  };
}
