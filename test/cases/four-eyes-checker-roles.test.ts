import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { CASE_STORES, client, startCaseAppWith, type Person } from './helpers.js';

/**
 * Each operation names who may check it: an admin's key (api_key.create_admin) waits for a second admin, as POST
 * /v1/keys says; a supervisor, who may check the other operations, may neither approve nor reject it.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(
    `four eyes and the roles that may check an operation (${store.name})`,
    () => {
      let t: TestApp;
      let sup: Person;
      let adminA: Person;
      let adminB: Person;
      beforeAll(async () => {
        ({ t, sup, adminA, adminB } = await startCaseAppWith(await store.env(), {
          sup: ['Zhao Min', 'supervisor'],
          adminA: ['Admin A', 'admin'],
          adminB: ['Admin B', 'admin'],
        }));
      });
      afterAll(async () => t?.close());

      /** A new admin user's key, asked for by admin A: a pending change. */
      async function adminKeyChange(name: string): Promise<string> {
        const user = await client(t, adminA.key).post('/v1/users', { name, role: 'admin' });
        expect(user.statusCode, user.body).toBe(201);
        const asked = await client(t, adminA.key).post('/v1/keys', {
          userId: user.json().id,
          reason: 'new admin',
        });
        expect(asked.statusCode, asked.body).toBe(202);
        return asked.json().pendingChange.id as string;
      }

      it("refuses a supervisor an admin's key (403 LG_FORBIDDEN); a second admin approves it", async () => {
        const changeId = await adminKeyChange('Admin C');
        const approved = await client(t, sup.key).post(`/v1/changes/${changeId}/approve`, {});
        expect(approved.statusCode, approved.body).toBe(403);
        expect(approved.json().error.code).toBe('LG_FORBIDDEN');
        expect(approved.json().error.details).toMatchObject({
          changeId,
          operation: 'api_key.create_admin',
          checkerRoles: ['admin'],
        });
        const rejected = await client(t, sup.key).post(`/v1/changes/${changeId}/reject`, { note: 'no' });
        expect(rejected.statusCode, rejected.body).toBe(403);
        expect(rejected.json().error.code).toBe('LG_FORBIDDEN');
        expect((await client(t).get(`/v1/changes/${changeId}`)).json().state).toBe('PENDING');

        const byAdmin = await client(t, adminB.key).post(`/v1/changes/${changeId}/approve`, {});
        expect(byAdmin.statusCode, byAdmin.body).toBe(200);
        expect(byAdmin.json()).toMatchObject({ state: 'APPROVED', checker: `user:${adminB.userId}` });
      });

      it('lets a supervisor check an operation a supervisor may check (a list entry)', async () => {
        const asked = await client(t, adminA.key).post('/v1/lists', {
          list: 'black',
          entityType: 'device',
          value: 'device-checker-roles-1',
          reason: 'device farm',
          source: 'analyst',
        });
        expect(asked.statusCode, asked.body).toBe(202);
        const approved = await client(t, sup.key).post(
          `/v1/changes/${asked.json().pendingChange.id as string}/approve`,
          {},
        );
        expect(approved.statusCode, approved.body).toBe(200);
      });
    },
  );
