import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp } from './helpers.js';
import { keyRow, refuseKeyRowUpdates } from '../helpers/stores.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/index.js';

/**
 * Issue 13, "idempotent responses stored after the reply", on the borrower's side: a complaint, an appeal and the
 * cancellation of a cooling-off draw commit their response with their key, in their own transaction. A borrower on a
 * flaky phone retries; with every later write of a key row refused (a trigger), each is still acknowledged and its
 * retry replays it byte for byte.
 */
const COOLING_OFF_MS = 10 * 60_000;

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(
    `the borrower's writes store their responses with their keys (${store.name})`,
    () => {
      let t: TestApp;
      beforeAll(async () => {
        ({ t } = await startCaseApp({
          LINEGUARD_COOLING_OFF_MS: String(COOLING_OFF_MS),
          ...(await store.env()),
        }));
      });
      afterAll(async () => t?.close());

      it('files a complaint and an appeal and cancels a draw, each replayed from its key row', async () => {
        const applied = await client(t).post('/v1/applications', {
          applicant: { name: '测试', nationalId: residentId('19860202', 321), phone: '13900002222' },
          attributes: STRONG_APPLICANT,
        });
        expect(applied.statusCode, applied.body).toBe(201);
        const { borrowerId, decisionId, line } = applied.json<{
          borrowerId: string;
          decisionId: string;
          line: { id: string };
        }>();
        const drawBody = {
          amountMinor: 100_000,
          currency: 'CNY',
          termMonths: 6,
          method: 'EQUAL_INSTALLMENT',
        };
        await client(t).post(`/v1/lines/${line.id}/draws`, drawBody);
        const cooling = (await client(t).post(`/v1/lines/${line.id}/draws`, drawBody)).json<{
          drawId: string;
          status: string;
        }>();
        expect(cooling.status).toBe('COOLDOWN');
        const service = await person(t, 'svc', 'service');
        const token = (await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`)).json<{
          token: string;
        }>().token;
        await refuseKeyRowUpdates(t.app.store);

        const post = (url: string, key: string, payload?: object) =>
          t.server.inject({
            method: 'POST',
            url,
            headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
            ...(payload === undefined ? {} : { payload }),
          });
        const writes = [
          {
            url: '/v1/me/complaints',
            key: 'c-1',
            payload: { category: 'FEES_PRICING', text: '费用不清楚' },
            status: 201,
          },
          { url: '/v1/me/appeals', key: 'a-1', payload: { decisionId, text: '请重新审核' }, status: 201 },
          { url: `/v1/me/draws/${cooling.drawId}/cancel`, key: 'x-1', payload: undefined, status: 200 },
        ];
        for (const { url, key, payload, status } of writes) {
          const first = await post(url, key, payload);
          expect(first.statusCode, `${url}: ${first.body}`).toBe(status);
          // The appeal's and the complaint's answers are sealed (routes with personal data): opened here.
          const row = await keyRow(t.app.store, key, fieldCryptoFromMasterKey(t.app.config.masterKey));
          expect(row).toEqual({ state: 'done', status_code: status, response_body: first.body });
          const replay = await post(url, key, payload);
          expect(replay.headers['idempotent-replayed']).toBe('true');
          expect([replay.statusCode, replay.body]).toEqual([status, first.body]);
        }
      });
    },
  );
