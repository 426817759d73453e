import { describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { makeCore, openLine } from './harness.js';

/**
 * A draw is described once (the core's plan, in domain terms) and written by the store's draw unit on one of two
 * engines (src/store/core-draws.ts): synchronously on prepared statements (what embedded SQLite runs) or through Kysely
 * (what PostgreSQL runs). This runs one script of draws through each, from the same seed and clock, and requires the
 * very same rows.
 */
const TABLES = ['credit_lines', 'draws', 'loans', 'loan_installments', 'decisions', 'outbox'] as const;

async function runScript(store: Store): Promise<Record<string, unknown[]>> {
  const h = makeCore(store, { seed: 5 });
  const lineId = await openLine(h, 1_000_000);
  const outcomes: unknown[] = [];
  const draw = async (
    amountMinor: number,
    method: 'EQUAL_INSTALLMENT' | 'EQUAL_PRINCIPAL' | 'INTEREST_ONLY',
  ) => {
    h.clock.advance(60_000);
    try {
      outcomes.push(
        await h.core.requestDraw(lineId, {
          amountMinor,
          currency: 'CNY',
          termMonths: 6,
          method,
          deviceId: 'd1',
        }),
      );
    } catch (error) {
      outcomes.push({ error: (error as { code?: string }).code });
    }
  };
  await draw(120_000, 'EQUAL_INSTALLMENT');
  h.engine.script.draw = () => ({
    outcome: 'APPROVE',
    values: { upfrontFeeMinor: 1_500, periodicFeeMinor: 200 },
  });
  await draw(80_000, 'EQUAL_PRINCIPAL');
  h.engine.script.draw = () => ({ outcome: 'DECLINE', reasons: ['R_DRAW_VELOCITY'] });
  await draw(10_000, 'INTEREST_ONLY');
  h.engine.script.draw = () => ({ outcome: 'COOLDOWN', reasons: ['R_SCAM_TRANSFER_PATTERN'] });
  await draw(10_000, 'INTEREST_ONLY');
  delete h.engine.script.draw;
  await draw(5_000_000, 'EQUAL_INSTALLMENT');
  await Promise.all([
    draw(300_000, 'INTEREST_ONLY'),
    draw(300_000, 'EQUAL_INSTALLMENT'),
    draw(300_000, 'EQUAL_PRINCIPAL'),
  ]);
  const rows: Record<string, unknown[]> = { outcomes };
  for (const table of TABLES)
    rows[table] = await store.db
      .selectFrom(table)
      .selectAll()
      .orderBy(table === 'loan_installments' ? 'loan_id' : 'id')
      .execute();
  // Decision latency is measured wall time, the one column that may differ between two runs.
  rows.decisions = (rows.decisions ?? []).map((d) => ({ ...(d as object), latency_ms: 'measured' }));
  // The chain itself (hashes) also covers the borrower's sealed fields, whose IVs are random: compare what was chained.
  rows.ledger = (
    await store.db
      .selectFrom('ledger_entries')
      .select(['seq', 'entry_id', 'kind', 'subject_id', 'payload', 'recorded_at'])
      .orderBy('seq')
      .execute()
  ).filter((e) => e.kind !== 'borrower.created');
  return rows;
}

describe('the synchronous and the Kysely draw writer', () => {
  it('write the same rows for the same draws', async () => {
    const syncStore = await openStore({ sqlitePath: ':memory:' });
    const kyselyStore = await openStore({ sqlitePath: ':memory:' });
    expect(syncStore.sync).toBeDefined();
    // The same SQLite store without its synchronous face: every unit goes through Kysely, as on PostgreSQL.
    const { sync: _unused, ...asyncOnly } = kyselyStore;
    const viaSync = await runScript(syncStore);
    const viaKysely = await runScript(asyncOnly);
    expect((viaSync.draws ?? []).length).toBe(6);
    expect(viaSync).toEqual(viaKysely);
    await syncStore.close();
    await kyselyStore.close();
  });
});
