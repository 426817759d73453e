import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createApiKey } from '../../src/api/api-keys.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import type { Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { coreServer, makeCore, openLine, type Harness } from './harness.js';

/**
 * Issue 13, fewer statements per draw: a draw does not read its Idempotency-Key before the handler (keyReadInUnit),
 * on PostgreSQL (a round trip fewer) and on SQLite (a read transaction fewer). What that read answered must not change: a repeat is replayed, a repeat with another body is a
 * mismatch, a repeat whose own reads now fail (an expired quote) is still replayed, and the same key at two servers
 * at once makes one draw that both answer alike.
 */

const DRAW = { amountMinor: 100_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' } as const;
for (const factory of STORE_FACTORIES)
  describe.skipIf(!factory.enabled)(`a draw reads its key in its unit (${factory.name})`, () => {
    let store: Store;
    let h: Harness;
    let app: FastifyInstance;
    let auth: string;
    beforeEach(async () => {
      store = await factory.open('key_read_in_unit');
      h = makeCore(store);
      const random = seededRandom(11);
      const deps = { clock: h.clock, ids: uuidv7Generator(h.clock, random), random };
      auth = `Bearer ${(await createApiKey(store.db, deps, 'service')).key}`;
      app = await coreServer(store, h);
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
    });
    afterEach(async () => {
      await app.close();
      await store.close();
    });

    const post = (server: FastifyInstance, url: string, key: string, body: object) =>
      server.inject({
        method: 'POST',
        url,
        headers: { authorization: auth, 'idempotency-key': key },
        payload: body as Record<string, unknown>,
      });
    const draws = async (lineId: string) =>
      (await store.db.selectFrom('draws').select('id').where('line_id', '=', lineId).execute()).length;

    /** `replay` is `first` answered again, byte for byte, and says so. */
    const expectReplayOf = (first: LightMyRequestResponse, replay: LightMyRequestResponse) =>
      expect([replay.statusCode, replay.headers['idempotent-replayed'], replay.body]).toEqual([
        first.statusCode,
        'true',
        first.body,
      ]);

    /** The texts of every statement the store runs while `run` runs (every pooled client's, or every connection's). */
    async function statementsDuring(run: () => Promise<unknown>): Promise<string[]> {
      return store.kind === 'postgres' ? pgStatementsDuring(run) : sqliteStatementsDuring(run);
    }
    it('sends no read of the key before the unit, and a repeat is replayed byte for byte', async () => {
      const lineId = await openLine(h);
      let first = await post(app, `/v1/lines/${lineId}/draws`, 'k-1', DRAW);
      const texts = await statementsDuring(async () => {
        first = await post(app, `/v1/lines/${lineId}/draws`, 'k-2', DRAW);
      });
      expect(first.statusCode, first.body).toBe(201);
      expect(texts.filter((t) => /from "idempotency_keys"/.test(t))).toEqual([]);
      const replay = await post(app, `/v1/lines/${lineId}/draws`, 'k-2', DRAW);
      expectReplayOf(first, replay);
      expect(await draws(lineId)).toBe(2);
    });

    it('a repeat with another body is a mismatch and draws nothing', async () => {
      const lineId = await openLine(h);
      expect((await post(app, `/v1/lines/${lineId}/draws`, 'm-1', DRAW)).statusCode).toBe(201);
      const other = await post(app, `/v1/lines/${lineId}/draws`, 'm-1', { ...DRAW, amountMinor: 50_000 });
      expect(other.statusCode).toBe(422);
      expect(other.json()).toMatchObject({ error: { code: 'LG_IDEMPOTENCY_MISMATCH' } });
      expect(await draws(lineId)).toBe(1);
    });

    it('a repeat whose own reads fail before its unit (its quote expired since) is still replayed', async () => {
      const lineId = await openLine(h);
      const quote = await post(app, `/v1/lines/${lineId}/quotes`, 'q-1', DRAW);
      expect(quote.statusCode, quote.body).toBe(201);
      const body = { ...DRAW, quoteId: quote.json<{ quoteId: string }>().quoteId };
      const first = await post(app, `/v1/lines/${lineId}/draws`, 'e-1', body);
      expect(first.statusCode, first.body).toBe(201);
      h.clock.advance(24 * 3_600_000);
      // The control: a new key with that quote is refused now.
      const fresh = await post(app, `/v1/lines/${lineId}/draws`, 'e-2', body);
      expect(fresh.json()).toMatchObject({ error: { code: 'LG_QUOTE_EXPIRED' } });
      const replay = await post(app, `/v1/lines/${lineId}/draws`, 'e-1', body);
      expectReplayOf(first, replay);
      expect(await draws(lineId)).toBe(1);
    });

    it('the same key at two servers at once makes one draw, and both answer with it', async () => {
      const lineId = await openLine(h);
      const other = await coreServer(store, h);
      try {
        for (let round = 0; round < 5; round++) {
          const key = `race-${round}`;
          const [a, b] = await Promise.all([
            post(app, `/v1/lines/${lineId}/draws`, key, DRAW),
            post(other, `/v1/lines/${lineId}/draws`, key, DRAW),
          ]);
          expect([a.statusCode, b.statusCode], `${a.body} ${b.body}`).toEqual([201, 201]);
          expect(a.body).toBe(b.body);
          expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].sort()).toEqual([
            'true',
            undefined,
          ]);
        }
        expect(await draws(lineId)).toBe(5);
      } finally {
        await other.close();
      }
    });
  });

async function pgStatementsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const texts: string[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    texts.push(typeof first === 'string' ? first : ((first as { text?: string } | null)?.text ?? ''));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await run();
  } finally {
    pg.Client.prototype.query = query;
  }
  return texts;
}

type StatementMethod = (this: { source: string }, ...args: unknown[]) => unknown;

/** better-sqlite3 statements are one class: its methods see every statement any connection runs. */
async function sqliteStatementsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const texts: string[] = [];
  const probe = new Database(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, StatementMethod>;
  probe.close();
  const originals = (['get', 'all', 'run', 'iterate'] as const).map(
    (name) => [name, statement[name]!] as const,
  );
  for (const [name, original] of originals)
    statement[name] = function counted(this: { source: string }, ...args: unknown[]) {
      texts.push(this.source);
      return original.apply(this, args);
    };
  try {
    await run();
  } finally {
    for (const [name, original] of originals) statement[name] = original;
  }
  return texts;
}
