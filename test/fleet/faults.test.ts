import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { NatsBus } from '../../src/bus/index.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { hostPort, startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const REDIS_URL = process.env.LINEGUARD_TEST_REDIS_URL;
const NATS_URL = process.env.LINEGUARD_TEST_NATS_URL;
const ALL_SERVICES = Boolean(TEST_DATABASE_URL && REDIS_URL && NATS_URL);
if (!ALL_SERVICES)
  console.warn(
    'LINEGUARD_TEST_DATABASE_URL, LINEGUARD_TEST_REDIS_URL or LINEGUARD_TEST_NATS_URL is not set: the fleet fault suite is skipped (CI sets them).',
  );

let eventSeq = 0;
const event = (userId: string) => ({
  eventId: `fault-${process.pid}-${++eventSeq}`,
  type: 'login',
  occurredAt: new Date(Date.UTC(2026, 0, 1) + eventSeq * 1000).toISOString(),
  userId,
  deviceId: 'd1',
});

/** Polls until `check` passes (a dependency coming back is observed, never timed). */
async function eventually<T>(check: () => Promise<T>, attempts = 100): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await check();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw last;
}

/** Ends every backend whose application_name is `name`, as a failover or an operator would. */
async function terminateBackends(name: string): Promise<number> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    const result = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
      [name],
    );
    return result.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe.skipIf(!ALL_SERVICES)('fleet faults: PostgreSQL, Redis and NATS going away and coming back', () => {
  let t: TestApp;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let natsProxy: TcpProxy;
  const appName = `lg_fault_${process.pid}`;
  const namespace = `faults${process.pid}`;

  beforeAll(async () => {
    const pgTarget = hostPort(TEST_DATABASE_URL ?? '', 5432);
    const redisTarget = hostPort(REDIS_URL ?? '', 6379);
    const natsTarget = hostPort(NATS_URL ?? '', 4222);
    pgProxy = await startTcpProxy(pgTarget.host, pgTarget.port);
    redisProxy = await startTcpProxy(redisTarget.host, redisTarget.port);
    natsProxy = await startTcpProxy(natsTarget.host, natsTarget.port);
    const schemaUrl = new URL(await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'faults'));
    schemaUrl.searchParams.set('application_name', appName);
    t = await startTestApp({
      LINEGUARD_DATABASE_URL: pgProxy.url(schemaUrl.toString()),
      LINEGUARD_REDIS_URL: redisProxy.url(REDIS_URL ?? ''),
      LINEGUARD_NATS_URL: natsProxy.url(NATS_URL ?? ''),
      LINEGUARD_NAMESPACE: namespace,
      // Short, so the silent-drop test below waits seconds (the default is 30 s); long enough for a loaded machine.
      LINEGUARD_PG_QUERY_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    await pgProxy?.restore().catch(() => undefined);
    await redisProxy?.restore().catch(() => undefined);
    await natsProxy?.restore().catch(() => undefined);
    await t?.close();
    await pgProxy?.close();
    await redisProxy?.close();
    await natsProxy?.close();
    // The deployment's stream outlives the process (as it should); the test's is garbage.
    await NatsBus.deleteStream({ url: NATS_URL ?? '', namespace }).catch(() => undefined);
  });

  const postEvents = (events: unknown[]) =>
    t.server.inject({ method: 'POST', url: '/v1/events', headers: adminHeaders(), payload: { events } });
  const health = async () => {
    const res = await t.server.inject({ method: 'GET', url: '/health' });
    return { status: res.statusCode, body: res.json(), retryAfter: res.headers['retry-after'] };
  };
  /** Polls until an event batch is accepted again, then /health must report nothing down. */
  const servesEventsAgain = async (userId: string) => {
    await eventually(async () => {
      const again = await postEvents([event(userId)]);
      if (again.statusCode !== 200) throw new Error(`status ${again.statusCode}`);
    });
    expect((await health()).body.down).toEqual([]);
  };
  /** A core write's outbox row, committed while the bus may be away: it waits until the relay publishes it. */
  const addOutboxRow = async (id: string) => {
    await t.app.store.db
      .insertInto('outbox')
      .values({
        id,
        topic: 'core.test',
        payload: JSON.stringify({ eventId: id }),
        created_at: Date.now(),
        published_at: null,
      })
      .execute();
  };
  const publishedAt = async (id: string) =>
    (
      await t.app.store.db
        .selectFrom('outbox')
        .select('published_at')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).published_at;
  const publishedEventually = (id: string, attempts: number) =>
    eventually(async () => {
      if ((await publishedAt(id)) === null) throw new Error('not yet published');
    }, attempts);

  it('reports every dependency up in /health', async () => {
    const h = await health();
    expect(h.status).toBe(200);
    expect(h.body.status).toBe('ok');
    expect(h.body.down).toEqual([]);
    expect(Object.keys(h.body.dependencies).sort()).toEqual(['nats', 'redis', 'store']);
  });

  it('survives its idle connections being terminated and keeps serving', async () => {
    expect((await postEvents([event('idle-1')])).statusCode).toBe(200);
    expect(await terminateBackends(appName)).toBeGreaterThan(0);
    // The pool drops the dead clients (its 'error' events are handled) and opens new ones.
    const after = await eventually(async () => {
      const res = await postEvents([event('idle-2')]);
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.body}`);
      return res;
    });
    expect(after.json().results[0].status).toBe('accepted');
  });

  it('answers 503 or succeeds, never 500, while backends are terminated under load', async () => {
    const requests: Promise<{ statusCode: number; body: string }>[] = [];
    for (let i = 0; i < 40; i++) {
      requests.push(postEvents([event(`load-${i % 5}`), event(`load-${(i + 1) % 5}`)]));
      if (i % 10 === 5) requests.push(terminateBackends(appName).then(() => ({ statusCode: 0, body: '' })));
    }
    const answers = (await Promise.all(requests)).filter((r) => r.statusCode !== 0);
    for (const a of answers) {
      expect([200, 503], a.body).toContain(a.statusCode);
      if (a.statusCode === 503) expect(JSON.parse(a.body).error.code).toBe('LG_STORE_UNAVAILABLE');
    }
    expect((await health()).status).toBe(200);
  });

  it('answers 503 LG_STORE_UNAVAILABLE with Retry-After while PostgreSQL is unreachable, and recovers by itself', async () => {
    await pgProxy.cut();
    try {
      const res = await postEvents([event('down-1')]);
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error.code).toBe('LG_STORE_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      const read = await t.server.inject({ method: 'GET', url: '/v1/alerts', headers: adminHeaders() });
      expect(read.statusCode, read.body).toBe(503);
      const h = await health();
      expect(h.status).toBe(503);
      expect(h.body.down).toEqual(['store']);
      expect(h.body.dependencies.store.ok).toBe(false);
    } finally {
      await pgProxy.restore();
    }
    await servesEventsAgain('down-2');
  });

  it('answers 503 when PostgreSQL silently stops answering (no reset, no close), and recovers on new connections', async () => {
    expect((await postEvents([event('stall-0')])).statusCode).toBe(200);
    // A partition or a failed-over address: the pooled connections stay open and hear nothing. Without a bound on
    // how long a query may wait, requests hang until TCP gives up on the connection (about 15 minutes on Linux).
    pgProxy.stall();
    try {
      const [write, read] = await Promise.all([
        postEvents([event('stall-1')]),
        t.server.inject({ method: 'GET', url: '/v1/alerts', headers: adminHeaders() }),
      ]);
      expect(write.statusCode, write.body).toBe(503);
      expect(write.json().error.code).toBe('LG_STORE_UNAVAILABLE');
      expect(Number(write.headers['retry-after'])).toBeGreaterThan(0);
      expect(read.statusCode, read.body).toBe(503);
      expect((await health()).body.down).toEqual(['store']);
      // A failover: the old connections never answer again, new ones reach the database.
      pgProxy.abandon();
      await servesEventsAgain('stall-2');
    } finally {
      await pgProxy.restore();
    }
  }, 60_000);

  it('answers 503 LG_FEATURES_UNAVAILABLE while Redis is unreachable (nothing accepted), and recovers', async () => {
    await redisProxy.cut();
    try {
      const res = await postEvents([event('redis-1')]);
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error.code).toBe('LG_FEATURES_UNAVAILABLE');
      expect(res.headers['retry-after']).toBeDefined();
      const h = await health();
      expect(h.status).toBe(503);
      expect(h.body.down).toEqual(['redis']);
    } finally {
      await redisProxy.restore();
    }
    await servesEventsAgain('redis-2');
  });

  it('answers 503 when Redis silently stops answering (rate-limit counts and features alike), and recovers on new connections', async () => {
    expect((await postEvents([event('redis-stall-0')])).statusCode).toBe(200);
    redisProxy.stall();
    try {
      // Every request asks Redis for its rate-limit counts first, then intake for the event's features: neither may
      // wait for an answer that is not coming.
      const res = await postEvents([event('redis-stall-1')]);
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error.code).toBe('LG_FEATURES_UNAVAILABLE');
      // A failover: the old connections never answer again; the clients must notice and connect anew.
      redisProxy.abandon();
      await servesEventsAgain('redis-stall-2');
    } finally {
      await redisProxy.restore();
    }
  }, 60_000);

  it('publishes the outbox again after NATS goes silent and its old connection never answers (failover)', async () => {
    natsProxy.stall();
    try {
      const outboxRow = `fault-outbox-silent-${process.pid}`;
      await addOutboxRow(outboxRow);
      natsProxy.abandon();
      // The client must find out by itself that its connection is dead (no error, no close) and connect anew.
      await publishedEventually(outboxRow, 400);
      expect((await health()).body.down).toEqual([]);
    } finally {
      await natsProxy.restore();
    }
  }, 90_000);

  it('keeps core events in the outbox while NATS is unreachable and publishes them once it is back', async () => {
    await natsProxy.cut();
    let restored = false;
    try {
      await eventually(async () => {
        const h = await health();
        if (!h.body.down.includes('nats')) throw new Error('nats not yet reported down');
      });
      // A core write during the outage commits; its outbox row waits.
      const outboxRow = `fault-outbox-${process.pid}`;
      await addOutboxRow(outboxRow);
      expect(await publishedAt(outboxRow)).toBeNull();
      await natsProxy.restore();
      restored = true;
      await publishedEventually(outboxRow, 300);
      expect((await health()).body.down).toEqual([]);
    } finally {
      if (!restored) await natsProxy.restore();
    }
  });
});
