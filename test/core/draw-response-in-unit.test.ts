import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildServer, createMetricsRegistry } from '../../src/api/server.js';
import { createApiKey, createKeyVerifier } from '../../src/api/api-keys.js';
import { coreRoutes } from '../../src/api/routes/core.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import type { Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { makeCore, openLine, type Harness } from './harness.js';

/**
 * Issue 13, "idempotent responses stored after the reply": a draw's response commits with its key and its write, in
 * the draw's own transaction. Shown by taking away every write that could store it afterwards (a trigger refuses any
 * update of a key row): the draw is still acknowledged, and a retry replays it byte for byte instead of being told
 * the write committed without its response.
 */

const DRAW = { amountMinor: 100_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' } as const;

/** After this, a key row can be inserted (with the write) but never updated (a response stored after the commit). */
async function refuseResponseWritesAfterTheCommit(store: Store): Promise<void> {
  if (store.kind === 'postgres') {
    await sql`create function refuse_key_update() returns trigger language plpgsql as $$
      begin raise exception 'key rows cannot be updated in this test'; end $$`.execute(store.db);
    await sql`create trigger refuse_key_update before update on idempotency_keys
      for each row execute function refuse_key_update()`.execute(store.db);
    return;
  }
  await sql`create trigger refuse_key_update before update on idempotency_keys
    begin select raise(abort, 'key rows cannot be updated in this test'); end`.execute(store.db);
}

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`a draw's response commits with its key (${factory.name})`, () => {
    let store: Store;
    let h: Harness;
    let app: FastifyInstance;
    let auth: string;
    beforeEach(async () => {
      store = await factory.open('draw_response_in_unit');
      h = makeCore(store);
      const random = seededRandom(5);
      const deps = { clock: h.clock, ids: uuidv7Generator(h.clock, random), random };
      auth = `Bearer ${(await createApiKey(store.db, deps, 'service')).key}`;
      app = await buildServer({
        store,
        clock: h.clock,
        metrics: createMetricsRegistry(),
        requestBytesMax: 16_384,
        verifyKey: createKeyVerifier(store.db, h.clock),
        routes: [coreRoutes(h.core)],
      });
    });
    afterEach(async () => {
      await app.close();
      await store.close();
    });

    const draw = (lineId: string, key: string, body: object = DRAW) =>
      app.inject({
        method: 'POST',
        url: `/v1/lines/${lineId}/draws`,
        headers: { authorization: auth, 'idempotency-key': key },
        payload: body as Record<string, unknown>,
      });

    const keyRow = (key: string) =>
      store.db
        .selectFrom('idempotency_keys')
        .select(['state', 'status_code', 'response_body'])
        .where('idem_key', '=', key)
        .executeTakeFirstOrThrow();

    it('approved, held and declined draws are acknowledged and replay, with no write after the commit', async () => {
      const lineId = await openLine(h);
      await refuseResponseWritesAfterTheCommit(store);
      const cases = [
        { key: 'approved', outcome: 'APPROVE', status: 201 },
        { key: 'held', outcome: 'HOLD', status: 202 },
        { key: 'declined', outcome: 'DECLINE', status: 422 },
      ] as const;
      for (const { key, outcome, status } of cases) {
        h.engine.script.draw = () => ({ outcome });
        const first = await draw(lineId, key);
        expect(first.statusCode, `${key}: ${first.body}`).toBe(status);
        expect(await keyRow(key)).toEqual({ state: 'done', status_code: status, response_body: first.body });
        const replay = await draw(lineId, key);
        expect(replay.statusCode).toBe(status);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.body).toBe(first.body);
      }
      expect(await draw(lineId, 'approved', { ...DRAW, amountMinor: 1 })).toMatchObject({ statusCode: 422 });
      const line = await h.core.getLine(lineId);
      expect(line.outstandingPrincipalMinor).toBe(DRAW.amountMinor);
    });
  });
}
