import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { APPLICANT_ONLY, adminHeaders, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';
import { client, startCaseApp } from '../cases/helpers.js';
import { publishedSchemaMisfits } from './response-contract.js';
import { applicantWithSandboxFile } from '../helpers/sandbox-applicant.js';

/**
 * A sealed value at rest that no data key held here opens (a decision's context and trace, a dispute's claim and
 * text: altered, copied from another row, or sealed under a key not configured) is answered 500
 * LG_SEALED_DATA_UNREADABLE. /openapi.json declares that answer, in the one ErrorBody shape, on the routes that open
 * such values (every route declares its 500: LG_INTERNAL is possible anywhere), and a real unreadable row's answer
 * fits what is declared.
 */
const STORES = appStores('sealed_unreadable_contract');

type Operation = { responses?: Record<string, { description?: string; content?: Record<string, unknown> }> };
type OpenApi = { paths: Record<string, Record<string, Operation>> };

/** Routes that open a sealed decision or dispute. */
const SEALED_READERS = [
  ['get', '/v1/decisions/{id}'],
  ['post', '/v1/strategies/{id}/simulate'],
  ['get', '/v1/cases/{id}'],
  ['get', '/v1/disputes/{id}'],
  ['get', '/v1/borrowers/{id}/disputes'],
  ['post', '/v1/disputes'],
  ['get', '/v1/me/disputes'],
  ['get', '/v1/me/disputes/{id}'],
] as const;

for (const store of STORES)
  describe.skipIf(!store.enabled)(`LG_SEALED_DATA_UNREADABLE is a declared answer (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let doc: OpenApi;
    let n = 0;
    const post = (url: string, payload: object) =>
      t.server.inject({ method: 'POST', url, headers: adminHeaders(`su-c-${++n}`), payload });

    beforeAll(async () => {
      ({ t, clock } = await startCaseApp({ ...(await store.env()), LINEGUARD_BUREAU: 'sandbox' }));
      doc = (await t.server.inject({ method: 'GET', url: '/openapi.json' })).json();
    });
    afterAll(async () => t?.close());

    it('declares the 500 with the ErrorBody on every route that opens a sealed value, naming the code', () => {
      for (const [method, path] of SEALED_READERS) {
        const declared = doc.paths[path]?.[method]?.responses?.['500'];
        expect(declared, `${method} ${path}`).toBeDefined();
        expect(JSON.stringify(declared?.content)).toContain('#/components/schemas/ErrorBody');
        expect(declared?.description).toContain('LG_SEALED_DATA_UNREADABLE');
      }
    });

    it('a decision and a dispute no key opens answer in the declared shape', async () => {
      // A borrower with a bureau file and a consent, an application (a decision) and a dispute of the report.
      const { decisionId, borrowerId } = await applicantWithSandboxFile(
        t,
        { clock, post },
        { name: '李雷', nationalId: residentId('19850505', 611), phone: '13900005555' },
        { existingDebtMinor: 900_000, externalDelinquent: false, inquiries30d: 0 },
      );
      const raised = async (item: string) => {
        const answer = await client(t).post('/v1/disputes', {
          borrowerId,
          target: { kind: 'REPORT_ITEM', id: item, correctValue: 0 },
          text: '已结清',
        });
        expect(answer.statusCode, answer.body).toBe(201);
        return answer.json<{ id: string }>().id;
      };
      const [first, second] = [await raised('existingDebtMinor'), await raised('inquiries30d')];

      // Each row given another row's sealed value: bound to that row, it opens as no other.
      const db = t.app.store.db;
      const other = await post('/v1/applications', {
        applicant: { name: '韩梅梅', nationalId: residentId('19850505', 612), phone: '13900006666' },
        attributes: APPLICANT_ONLY,
      });
      expect(other.statusCode, other.body).toBe(201);
      const otherDecision = await db
        .selectFrom('decisions')
        .select('context')
        .where('id', '=', other.json<{ decisionId: string }>().decisionId)
        .executeTakeFirstOrThrow();
      await db
        .updateTable('decisions')
        .set({ context: otherDecision.context })
        .where('id', '=', decisionId)
        .execute();
      const firstClaim = await db
        .selectFrom('credit_disputes')
        .select('claim')
        .where('id', '=', first)
        .executeTakeFirstOrThrow();
      await db
        .updateTable('credit_disputes')
        .set({ claim: firstClaim.claim })
        .where('id', '=', second)
        .execute();

      // A list of disputes marks the unreadable one and answers 200 (dispute-list-unreadable.test.ts).
      const answers = [
        ['get', '/v1/decisions/{id}', `/v1/decisions/${decisionId}`],
        ['get', '/v1/disputes/{id}', `/v1/disputes/${second}`],
      ] as const;
      for (const [method, path, url] of answers) {
        const answer = await t.server.inject({ method: 'GET', url, headers: adminHeaders() });
        expect([answer.statusCode, answer.json().error?.code], url).toEqual([
          500,
          'LG_SEALED_DATA_UNREADABLE',
        ]);
        expect(publishedSchemaMisfits(doc, { method, path, status: 500 }, answer.json()), url).toEqual([]);
      }
    });
  });
