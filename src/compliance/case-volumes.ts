/**
 * Complaint and appeal volumes over a window [from, to), as a consumer-protection report states them: how many came
 * in, how many were settled and how (appeals: upheld or rejected), how many of those were settled after their
 * deadline (a complaint's due date, extension included; an appeal's SLA deadline), and how many were still open at
 * the window's end. Computed from the rows that touch the window: created before its end and not settled before its
 * start (the store's complaintVolumeRows and appealVolumeRows), so a snapshot's 30-day window and a month's report read
 * the same way.
 */

/** A complaint or appeal as the volumes need it. `deadlineAt` is a complaint's due_at, an appeal's deadline_at. */
export interface VolumeRow {
  readonly kind: string;
  readonly state: string;
  readonly createdAt: number;
  readonly resolvedAt: number | null;
  readonly deadlineAt: number;
}

export interface CaseVolume {
  /** Came in during the window. */
  readonly received: number;
  /** Received in the window, by complaint category (appeals: by what was appealed, a decision or a line action). */
  readonly receivedByKind: Record<string, number>;
  /** Settled during the window, by the state they were settled in (RESOLVED; UPHELD or REJECTED). */
  readonly settled: Record<string, number>;
  /** Of those settled in the window, how many after their deadline. */
  readonly settledLate: number;
  /** Received before the window's end and not settled by then. */
  readonly openAtEnd: number;
  /** Of those open at the end, how many were past their deadline then. */
  readonly overdueAtEnd: number;
}

const within = (at: number, from: number, to: number): boolean => at >= from && at < to;

export function caseVolume(rows: readonly VolumeRow[], from: number, to: number): CaseVolume {
  const receivedByKind: Record<string, number> = {};
  const settled: Record<string, number> = {};
  let received = 0;
  let settledLate = 0;
  let openAtEnd = 0;
  let overdueAtEnd = 0;
  for (const row of rows) {
    if (row.createdAt >= to) continue;
    if (within(row.createdAt, from, to)) {
      received += 1;
      receivedByKind[row.kind] = (receivedByKind[row.kind] ?? 0) + 1;
    }
    if (row.resolvedAt !== null && within(row.resolvedAt, from, to)) {
      settled[row.state] = (settled[row.state] ?? 0) + 1;
      if (row.resolvedAt > row.deadlineAt) settledLate += 1;
    }
    if (row.resolvedAt === null || row.resolvedAt >= to) {
      openAtEnd += 1;
      if (row.deadlineAt < to) overdueAtEnd += 1;
    }
  }
  return { received, receivedByKind, settled, settledLate, openAtEnd, overdueAtEnd };
}
