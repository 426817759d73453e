import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { NatsBus } from '../../src/bus/index.js';
import { adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { loadConfig } from '../../src/app/config.js';

const REDIS_URL = process.env.LINEGUARD_TEST_REDIS_URL;
const NATS_URL = process.env.LINEGUARD_TEST_NATS_URL;
const ALL_SERVICES = Boolean(TEST_DATABASE_URL && REDIS_URL && NATS_URL);
if (!ALL_SERVICES)
  console.warn(
    'LINEGUARD_TEST_DATABASE_URL, LINEGUARD_TEST_REDIS_URL or LINEGUARD_TEST_NATS_URL is not set: the namespace suite is skipped (CI sets them).',
  );

async function eventually(check: () => Promise<void>, attempts = 200): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await check();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const T = Date.UTC(2026, 1, 1);
const coreEvent = (eventId: string, userId: string) => ({
  eventId,
  type: 'application',
  occurredAt: new Date(T).toISOString(),
  userId,
});

/** Two deployments on one NATS and one Redis, told apart only by LINEGUARD_NAMESPACE. */
describe.skipIf(!ALL_SERVICES)('deployment namespaces on shared NATS and Redis', () => {
  const tag = `${process.pid}${Date.now() % 100_000}`;
  const namespaces = [`nsa${tag}`, `nsb${tag}`];
  let deployments: TestApp[] = [];

  beforeAll(async () => {
    deployments = await Promise.all(
      namespaces.map(async (namespace) =>
        startTestApp({
          LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', namespace),
          LINEGUARD_REDIS_URL: REDIS_URL ?? '',
          LINEGUARD_NATS_URL: NATS_URL ?? '',
          LINEGUARD_NAMESPACE: namespace,
        }),
      ),
    );
  });
  afterAll(async () => {
    for (const d of deployments) {
      const bus = d.app.bus;
      await d.close();
      // Leave nothing behind on the shared services.
      if (bus instanceof NatsBus)
        await NatsBus.deleteStream({ url: NATS_URL ?? '', namespace: d.app.config.namespace });
    }
  });

  const eventsOf = async (d: TestApp) =>
    (await d.app.store.db.selectFrom('monitor_events').select('event_id').execute()).map((r) => r.event_id);

  it('names the stream, subjects and Redis keys after the namespace', () => {
    const [a, b] = deployments as [TestApp, TestApp];
    expect((a.app.bus as NatsBus).streamName).toBe(namespaces[0]?.toUpperCase());
    expect((b.app.bus as NatsBus).streamName).toBe(namespaces[1]?.toUpperCase());
    expect(loadConfig({ LINEGUARD_KEY: 'ab'.repeat(32) }, {}, () => undefined).namespace).toBe('lineguard');
    expect(() =>
      loadConfig({ LINEGUARD_KEY: 'ab'.repeat(32), LINEGUARD_NAMESPACE: 'a.b' }, {}, () => undefined),
    ).toThrow(/LINEGUARD_NAMESPACE/);
  });

  it('each deployment consumes only its own core events', async () => {
    const [a, b] = deployments as [TestApp, TestApp];
    // A core write in each deployment leaves through its outbox and its own stream to its own monitor.
    for (const [i, d] of deployments.entries()) {
      await d.app.store.db
        .insertInto('outbox')
        .values({
          id: `ns-row-${i}`,
          topic: 'core.events',
          payload: JSON.stringify(coreEvent(`ns-core-${i}-${tag}`, `ns-user-${i}`)),
          created_at: T,
          published_at: null,
        })
        .execute();
    }
    await eventually(async () => {
      expect(await eventsOf(a)).toContain(`ns-core-0-${tag}`);
      expect(await eventsOf(b)).toContain(`ns-core-1-${tag}`);
    });
    expect(await eventsOf(a)).not.toContain(`ns-core-1-${tag}`);
    expect(await eventsOf(b)).not.toContain(`ns-core-0-${tag}`);
  });

  it("counts each deployment's requests under its own Redis keys", async () => {
    const redis = new Redis(REDIS_URL ?? '');
    try {
      for (const [i, d] of deployments.entries()) {
        const res = await d.server.inject({ method: 'GET', url: '/v1/strategies', headers: adminHeaders() });
        expect(res.statusCode).toBe(200);
        // Two deployments on one Redis must not share a client's allowance (nor one's limits count the other's).
        expect(await redis.keys(`${namespaces[i]}:rate:*`), namespaces[i]).not.toEqual([]);
      }
    } finally {
      redis.disconnect();
    }
  });

  it("keeps each deployment's features apart in one Redis", async () => {
    const [a, b] = deployments as [TestApp, TestApp];
    const event = {
      eventId: `ns-login-${tag}`,
      type: 'login',
      occurredAt: new Date(T).toISOString(),
      userId: 'shared-user',
      deviceId: 'd1',
    };
    const res = await a.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: adminHeaders(),
      payload: event,
    });
    expect(res.statusCode, res.body).toBe(200);
    const window = {
      entity: 'user' as const,
      id: 'shared-user',
      types: ['login' as const],
      fromMs: T - 1,
      toMs: T + 1,
    };
    expect(await a.app.monitor.features.aggregate(window, { kind: 'count' })).toBe(1);
    expect(await b.app.monitor.features.aggregate(window, { kind: 'count' })).toBe(0);
    // The same eventId is a new event in the other deployment, not a duplicate of the first one's.
    const again = await b.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: adminHeaders(),
      payload: event,
    });
    expect(again.json().status).toBe('accepted');
    expect(await b.app.monitor.features.aggregate(window, { kind: 'count' })).toBe(1);
  });
});
