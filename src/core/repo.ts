import type { Insertable, Selectable } from 'kysely';
import type { LineState, LineStatus } from '../domain/index.js';
import type { CoreTables } from '../store/core-tables.js';

/**
 * The core's rows as the store keeps them (derived from the schema, so the two cannot drift apart; ports.ts exports
 * them) and pure readings of them. The rows themselves are read and written through ports.ts CoreStore.
 */
export type LineRow = CoreTables['credit_lines'];
export type LoanRow = CoreTables['loans'];
export type InstallmentRow = CoreTables['loan_installments'];
export type BorrowerRow = CoreTables['borrowers'];
export type DrawRow = CoreTables['draws'];
/** A line action as read (and as the core writes it, with its guard class). */
export type ActionRow = Selectable<CoreTables['line_actions']>;
/** A line as opened, and a line action as written (its guard class may be left to the column default). */
export type NewLine = Insertable<CoreTables['credit_lines']>;
export type NewLineAction = Insertable<CoreTables['line_actions']>;
export type ApplicationRow = Selectable<CoreTables['applications']>;
export type NewApplication = Insertable<CoreTables['applications']>;
export type NewRepayment = Insertable<CoreTables['repayments']>;
export type NewBucketChange = Insertable<CoreTables['delinquency_changes']>;

export function lineStateOf(row: LineRow): LineState {
  return {
    status: row.status as LineStatus,
    limitMinor: Number(row.limit_minor),
    baseLimitMinor: Number(row.base_limit_minor),
    tempLimitUntil: row.temp_limit_until === null ? null : Number(row.temp_limit_until),
    outstandingMinor: Number(row.outstanding_minor),
    annualRate: Number(row.annual_rate),
  };
}

export function parseReasons(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}
