import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../../src/api/api-keys.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import type { Store } from '../../src/store/db.js';
import type { CoreServices } from '../../src/core/index.js';
import { LgError } from '../../src/domain/index.js';
import { keyRow, refuseKeyRowUpdates, STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, coreServer, makeCore, openLine, type Harness } from './harness.js';

/**
 * Issue 13, "idempotent responses stored after the reply": the response of a draw, an application, a repayment and
 * a quote commits with its key and its write, in the write's own transaction. Shown by taking away every write that could
 * store it afterwards (a trigger refuses any update of a key row): each is still acknowledged, and a retry replays it
 * byte for byte instead of being told the write committed without its response.
 */

const DRAW = { amountMinor: 100_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' } as const;

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`responses commit with their keys (${factory.name})`, () => {
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
      app = await coreServer(store, h);
    });
    afterEach(async () => {
      await app.close();
      await store.close();
    });

    const post = (url: string, key: string, body: object) =>
      app.inject({
        method: 'POST',
        url,
        headers: { authorization: auth, 'idempotency-key': key },
        payload: body as Record<string, unknown>,
      });
    const draw = (lineId: string, key: string, body: object = DRAW) =>
      post(`/v1/lines/${lineId}/draws`, key, body);

    /** Posts, checks the key row holds the reply, and that a retry replays it. */
    const acknowledgedAndReplayed = async (url: string, key: string, body: object, status: number) => {
      const first = await post(url, key, body);
      expect(first.statusCode, `${key}: ${first.body}`).toBe(status);
      // Opened: an application keeps its answer sealed (personal data), the rest as they are.
      expect(await keyRow(store, key, h.deps.crypto)).toEqual({
        state: 'done',
        status_code: status,
        response_body: first.body,
      });
      const replay = await post(url, key, body);
      expect(replay.statusCode).toBe(status);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toBe(first.body);
      return first;
    };

    it('approved, held and declined draws are acknowledged and replay, with no write after the commit', async () => {
      const lineId = await openLine(h);
      await refuseKeyRowUpdates(store);
      const cases = [
        { key: 'approved', outcome: 'APPROVE', status: 201 },
        { key: 'held', outcome: 'HOLD', status: 202 },
        { key: 'declined', outcome: 'DECLINE', status: 422 },
      ] as const;
      for (const { key, outcome, status } of cases) {
        h.engine.script.draw = () => ({ outcome });
        await acknowledgedAndReplayed(`/v1/lines/${lineId}/draws`, key, DRAW, status);
      }
      expect(await draw(lineId, 'approved', { ...DRAW, amountMinor: 1 })).toMatchObject({ statusCode: 422 });
      const line = await h.core.getLine(lineId);
      expect(line.outstandingPrincipalMinor).toBe(DRAW.amountMinor);
    });

    it('applications, repayments and quotes are acknowledged and replay, with no write after the commit', async () => {
      await refuseKeyRowUpdates(store);
      h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate: 0.18 });
      const applied = await acknowledgedAndReplayed(
        '/v1/applications',
        'apply-1',
        { applicant: ADULT, attributes: { monthlyIncomeMinor: 1_000_000 } },
        201,
      );
      const lineId = applied.json<{ line: { id: string } }>().line.id;
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      const drawn = await acknowledgedAndReplayed(`/v1/lines/${lineId}/draws`, 'draw-1', DRAW, 201);
      const loanId = drawn.json<{ loan: { id: string } }>().loan.id;
      await acknowledgedAndReplayed(
        `/v1/loans/${loanId}/repayments`,
        'repay-1',
        { amountMinor: 10_000, currency: 'CNY' },
        201,
      );
      await acknowledgedAndReplayed(`/v1/lines/${lineId}/quotes`, 'quote-1', DRAW, 201);
      const repayments = await store.db.selectFrom('repayments').select('id').execute();
      expect(repayments).toHaveLength(1);
    });

    it('a refusal that wrote nothing never replaces the answer another request committed with the key meanwhile', async () => {
      // Another process takes the key and commits its answer after this request's read of the key found nothing;
      // then this request is refused before its unit. Its client gets its refusal; the key keeps the other's answer.
      const other = { status_code: 201, response_body: '{"committed":"elsewhere"}' };
      const refusing: CoreServices = {
        ...h.core,
        async repay(_loanId, _input, guard) {
          const claim = guard?.idempotency;
          if (!claim) throw new Error('the route passed no key');
          await store.db
            .insertInto('idempotency_keys')
            .values({
              scope: claim.scope,
              idem_key: claim.key,
              request_hash: claim.requestHash,
              state: 'done',
              created_at: h.clock.now(),
              ...other,
            })
            .execute();
          throw new LgError('LG_NOT_FOUND', 'no such loan');
        },
      };
      const refusingApp = await coreServer(store, h, refusing);
      try {
        const refused = await refusingApp.inject({
          method: 'POST',
          url: '/v1/loans/0190aaaa-0000-7000-8000-000000000000/repayments',
          headers: { authorization: auth, 'idempotency-key': 'taken-meanwhile' },
          payload: { amountMinor: 10_000, currency: 'CNY' },
        });
        expect(refused.statusCode).toBe(404);
        expect(await keyRow(store, 'taken-meanwhile')).toEqual({ state: 'done', ...other });
      } finally {
        await refusingApp.close();
      }
    });
  });
}
