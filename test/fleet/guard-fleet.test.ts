import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendToLedger, chainOf } from '../../src/compliance/index.js';
import { applyActionInTx, type LineActionResult } from '../../src/core/lines.js';
import { PG, applicant, fleet, openLine, type Proc } from './skew-harness.js';

/**
 * The blast-radius guard across processes: automated restrictions of one class may touch at most max(MIN_PER_WINDOW,
 * fraction × active lines) lines per window, "counted across every instance sharing the database" (README). The fleet
 * count is read under a transaction-scoped advisory lock the action's transaction keeps until it commits
 * (store/core-lines.ts lockGuardAdmissions), so admissions take turns across processes.
 *
 * Before, each process read the committed count with no lock and took the larger of it and its own: two processes each
 * running a burst of 8 automated scam freezes under a ceiling of 2 applied 4.
 */
describe.skipIf(!PG)('the blast-radius guard ceiling across processes (PostgreSQL)', () => {
  let procs: Proc[];
  let close: () => Promise<void>;
  const CEILING = 2;
  const HOUR = 3_600_000;
  const lines: string[] = [];

  beforeAll(async () => {
    ({ procs, close } = await fleet('guard', {
      env: { LINEGUARD_GUARD_MIN_PER_WINDOW: String(CEILING), LINEGUARD_GUARD_MAX_FRACTION: '0.01' },
    }));
    const [a] = procs as [Proc];
    for (let i = 0; i < 26; i++) lines.push((await openLine(a.t, applicant(40 + i))).lineId);
  }, 120_000);
  afterAll(async () => close?.());

  /** A new guard window at every process: their clocks move past the admissions before. */
  const nextWindow = () => procs.forEach((p) => p.clock.advance(2 * HOUR));

  const scamFreeze = (p: Proc, lineId: string) =>
    p.t.app.core.applyLineAction(lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_SCAM_TRANSFER_PATTERN'],
      automated: true,
      actor: 'monitor:SCAM_SAFE_ACCOUNT_TRANSFER',
    });
  const burst = (p: Proc, ids: readonly string[]) => Promise.all(ids.map((lineId) => scamFreeze(p, lineId)));

  /** The automated freezes stored on these lines, by outcome. */
  const stored = async (ids: readonly string[]) => {
    const db = (procs[0] as Proc).t.app.store.db;
    const rows = await db
      .selectFrom('line_actions')
      .select(['line_id', 'outcome'])
      .where('automated', '=', 1)
      .where('type', '=', 'FREEZE_DRAW')
      .where('line_id', 'in', [...ids])
      .execute();
    return {
      applied: rows.filter((r) => r.outcome === 'APPLIED').length,
      review: rows.filter((r) => r.outcome === 'REVIEW').length,
    };
  };
  const applied = (results: readonly LineActionResult[]) =>
    results.filter((r) => r.outcome === 'APPLIED').length;

  it('control: one process’s burst of 8 automated freezes applies the ceiling, the rest wait for a person', async () => {
    const [a] = procs as [Proc];
    const ids = lines.slice(0, 8);
    const results = await burst(a, ids);
    expect(applied(results)).toBe(CEILING);
    expect(await stored(ids)).toEqual({ applied: CEILING, review: 8 - CEILING });
  });

  it('two processes’ simultaneous bursts apply the ceiling between them', async () => {
    const [a, b] = procs as [Proc, Proc];
    nextWindow();
    const ids = lines.slice(8, 24);
    const [fromA, fromB] = await Promise.all([burst(a, ids.slice(0, 8)), burst(b, ids.slice(8))]);
    expect(applied([...fromA, ...fromB])).toBe(CEILING);
    expect(await stored(ids)).toEqual({ applied: CEILING, review: 16 - CEILING });
  });

  /**
   * The guard's lock is kept until the commit, after which the monitor's unit appends its ledger entry; the review
   * job's unit appends its decision's entry (locking a ledger chain head) before its actions take the guard's lock.
   * With the two on one chain, the monitor's unit holding the guard's lock would wait for the head the review's unit
   * holds while that one waits for the guard's lock: PostgreSQL would end one of them as a deadlock (the monitor's
   * freeze FAILED). The guard's lock is therefore taken after the unit's chain head (holdLedgerChain): the monitor's
   * unit waits for the head first, without the guard's lock.
   */
  it('a unit that appended to the ledger before its restriction and the monitor’s after it both commit', async () => {
    const [a, b] = procs as [Proc, Proc];
    nextWindow();
    const [x, y] = [lines[24] as string, lines[25] as string];
    // A subject on the chain the monitor's freeze of y will append to.
    let subject = '';
    for (let i = 0; chainOf(subject) !== chainOf(y) || subject === ''; i++) subject = `guard-order-${i}`;
    let appended: () => void = () => undefined;
    const hasAppended = new Promise<void>((resolve) => {
      appended = resolve;
    });
    const review = a.t.app.store.transaction(async (tx) => {
      await appendToLedger(tx, [
        { entryId: `${subject}:decision`, kind: 'decision', subjectId: subject, payload: {}, recordedAt: 0 },
      ]);
      appended();
      await monitorWaiting();
      const done = await applyActionInTx(a.t.app.core.deps, tx, x, {
        type: 'SUSPEND',
        reasons: ['R_DAYS_PAST_DUE'],
        automated: true,
        actor: 'job:review:2026-11-02',
      });
      await appendToLedger(tx, [done.ledger]);
      return done.result;
    });
    await hasAppended;
    const monitor = scamFreeze(b, y);
    const [suspended, frozen] = await Promise.all([review, monitor]);
    expect([suspended.outcome, frozen.outcome]).toEqual(['APPLIED', 'APPLIED']);
  });

  /** Until the monitor's unit waits on a lock at the ledger's head (or two seconds, whichever comes first). */
  const monitorWaiting = async () => {
    const db = (procs[0] as Proc).t.app.store.db;
    for (let i = 0; i < 40; i++) {
      const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where wait_event_type = 'Lock' and query like '%ledger_head%' and datname = current_database()`.execute(
        db,
      );
      if ((waiting.rows[0]?.n ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
});
