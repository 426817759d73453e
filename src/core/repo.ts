import type { LineState, LineStatus } from '../domain/index.js';
import type { CoreRow, CoreTables, NewCoreRow, NewDecisionRow } from '../store/core-tables.js';

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
export type ActionRow = CoreRow<'line_actions'>;
/** A line as opened, and a line action as written (its guard class may be left to the column default). */
export type NewLine = NewCoreRow<'credit_lines'>;
export type NewLineAction = NewCoreRow<'line_actions'>;
export type ApplicationRow = CoreRow<'applications'>;
export type NewApplication = NewCoreRow<'applications'>;
export type NewRepayment = NewCoreRow<'repayments'>;
/** A decision as the engine stores it (the core only carries it into the draw's unit of work). */
export type DecisionRow = NewDecisionRow;
export type NewBucketChange = NewCoreRow<'delinquency_changes'>;

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
