import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person, type Person } from '../cases/helpers.js';
import { PG, T0, applicant, client, fleet, openLine, type Proc } from './skew-harness.js';

/**
 * A line's actions at two processes whose clocks differ (the fleet treats a lagging process as normal: alert-follow,
 * case-intake-sweep, instantAfter for lines, draws and loans). Each action is stamped under the line's lock and after
 * the line's newest action (core/lines.ts applyActionInTx), so the line's actions are created in the order they
 * commit, and the reads that pick the newest (store/core-reads.ts: the restriction in force, the latest restriction or
 * lift, the limit change in force) pick the one that committed last.
 *
 * Before: a line frozen for a credit reason and unfrozen at the accurate process, then frozen for fraud (a scam) at the
 * process whose clock lags a second, had its credit freeze taken for the restriction in force: the borrower was told
 * the credit reason, and one person's UNFREEZE lifted the scam freeze (201) where it needs a second person (202).
 */
describe.skipIf(!PG)('a line’s actions at a process whose clock lags (PostgreSQL)', () => {
  let procs: Proc[];
  let close: () => Promise<void>;
  let riskA: Person;
  let riskB: Person;
  const LAG_MS = 1_000;

  beforeAll(async () => {
    ({ procs, close } = await fleet('restriction', { clocks: [T0, T0 - LAG_MS] }));
    const [a, b] = procs as [Proc, Proc];
    riskA = await person(a.t, '钱红', 'risk_analyst');
    riskB = await person(b.t, '孙丽', 'risk_analyst');
  }, 120_000);
  afterAll(async () => close?.());

  const tick = (ms: number) => procs.forEach((p) => p.clock.advance(ms));

  /** The line's actions as stored, newest first as the store's reads order them (created_at, then id). */
  const storedActions = async (lineId: string) => {
    const db = (procs[0] as Proc).t.app.store.db;
    const rows = await db
      .selectFrom('line_actions')
      .select(['id', 'type', 'created_at'])
      .where('line_id', '=', lineId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => ({ id: r.id, type: r.type, at: Number(r.created_at) }));
  };

  /** A credit freeze and its lift at a, then the monitor's scam freeze at b; what the borrower and a person then meet. */
  const scenario = async (tag: number) => {
    const [a, b] = procs as [Proc, Proc];
    const { lineId } = await openLine(a.t, applicant(tag));
    tick(200);
    const credit = await client(a.t, riskA.key).post(`/v1/lines/${lineId}/actions`, {
      type: 'FREEZE_DRAW',
      reasons: ['R_UTILISATION_HIGH'],
    });
    expect(credit.statusCode, credit.body).toBe(201);
    tick(200);
    const lifted = await client(a.t, riskA.key).post(`/v1/lines/${lineId}/actions`, {
      type: 'UNFREEZE',
      reasons: ['R_RISK_RESOLVED'],
    });
    expect(lifted.statusCode, lifted.body).toBe(201);
    tick(200);
    // The monitor's automated scam freeze, at b (its clock a second behind a's).
    const scam = await b.t.app.core.applyLineAction(lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_SCAM_TRANSFER_PATTERN'],
      automated: true,
      actor: 'monitor:SCAM_SAFE_ACCOUNT_TRANSFER',
    });
    expect(scam.outcome).toBe('APPLIED');

    // Stored in commit order: newest first is the scam freeze, then the lift, the credit freeze and the grant, each
    // strictly after the one before it.
    const stored = await storedActions(lineId);
    expect(stored.map((r) => r.id).slice(0, 3)).toEqual([
      scam.actionId,
      lifted.json().actionId,
      credit.json().actionId,
    ]);
    expect(stored.map((r) => r.type)).toEqual(['FREEZE_DRAW', 'UNFREEZE', 'FREEZE_DRAW', 'GRANT']);
    for (let i = 1; i < stored.length; i++)
      expect((stored[i - 1] as { at: number }).at).toBeGreaterThan((stored[i] as { at: number }).at);

    // What the borrower is told: the scam freeze is the restriction in force.
    const explanation = (await client(a.t).get(`/v1/lines/${lineId}/explanation?lang=en`)).json();
    expect(explanation.status).toBe('DRAW_FROZEN');
    expect(explanation.reasons.map((r: { code: string }) => r.code)).toEqual(['R_SCAM_TRANSFER_PATTERN']);
    expect(explanation.specifics.action.id).toBe(scam.actionId);

    // One person lifts it (at b): a fraud restriction, so the route proposes it for a second person instead.
    tick(200);
    const unfreeze = await client(b.t, riskB.key).post(`/v1/lines/${lineId}/actions`, {
      type: 'UNFREEZE',
      reasons: ['R_RISK_RESOLVED'],
    });
    const after = (await client(a.t).get(`/v1/lines/${lineId}`)).json();
    expect(
      { status: unfreeze.statusCode, line: after.status },
      `UNFREEZE answered ${unfreeze.statusCode}: ${unfreeze.body}`,
    ).toEqual({ status: 202, line: 'DRAW_FROZEN' });
  };

  it('control: with both clocks together the UNFREEZE of the scam freeze waits for a second person', async () => {
    const [a, b] = procs as [Proc, Proc];
    b.clock.set(a.clock.now());
    try {
      await scenario(11);
    } finally {
      b.clock.set(a.clock.now() - LAG_MS);
    }
  });

  it('the scam freeze taken at the lagging process is the restriction in force: its UNFREEZE waits too', async () => {
    await scenario(1);
  });

  it('a limit change at the lagging process is the limit change in force after one at the accurate process', async () => {
    const [a, b] = procs as [Proc, Proc];
    const { lineId, limitMinor } = await openLine(a.t, applicant(21));
    tick(200);
    const cut = await client(a.t, riskA.key).post(`/v1/lines/${lineId}/actions`, {
      type: 'LIMIT_DECREASE',
      limitMinor: limitMinor - 200_000,
      reasons: ['R_UTILISATION_HIGH'],
    });
    expect(cut.statusCode, cut.body).toBe(201);
    tick(200);
    // The review job's cut at b (its clock a second behind): automated, so no person's reasons are asked for.
    const second = await b.t.app.core.applyLineAction(lineId, {
      type: 'LIMIT_DECREASE',
      limitMinor: limitMinor - 400_000,
      reasons: ['R_LIMIT_REVIEW'],
      automated: true,
      actor: 'job:review:2026-11-02',
    });
    expect(second.outcome).toBe('APPLIED');
    // The limit changes, newest first, as the limit-change-in-force read pages them (store/core-reads.ts).
    const changes = await b.t.app.core.deps.coreStore.limitChangesInTx(b.t.app.store.db, lineId, {
      limit: 10,
    });
    expect(changes.map((r) => r.id)).toEqual([second.actionId, cut.json().actionId, expect.any(String)]);
    expect(changes.map((r) => Number(r.new_limit_minor))).toEqual([
      limitMinor - 400_000,
      limitMinor - 200_000,
      limitMinor,
    ]);
  });
});
