import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { EVENT_TYPES } from '../../src/monitor/events.js';
import { RedisFeatureStore } from '../../src/monitor/features/redis-store.js';
import type { FeatureEntry } from '../../src/monitor/features/store.js';
import { HOUR, T0 } from './helpers.js';

const REDIS_URL = process.env.LINEGUARD_TEST_REDIS_URL;

/**
 * The Redis store answers a window's distinct values as of now from its value index. A writer that does not keep the
 * index (a process of an earlier version during a rolling deploy, or a series written before the index existed) must
 * not make those answers wrong: the index is rebuilt from the series when its count disagrees.
 */
describe.skipIf(!REDIS_URL)('Redis feature store: value index against writers that bypass it', () => {
  const prefix = `lgtest:vi:${process.pid}:${Date.now()}`;
  let store: RedisFeatureStore;
  let raw: Redis;
  beforeAll(() => {
    store = new RedisFeatureStore({ url: REDIS_URL ?? '', prefix });
    raw = new Redis(REDIS_URL ?? '');
  });
  afterAll(async () => {
    await store.clear();
    await store.close();
    raw.disconnect();
  });

  const entry = (i: number, userId: string): FeatureEntry => ({
    eventId: `v${i}`,
    type: 'disbursement',
    t: T0 + i * HOUR,
    r: T0 + i * HOUR,
    userId,
    deviceId: 'farm-device',
    amountMinor: 100,
  });
  const window = {
    entity: 'device' as const,
    id: 'farm-device',
    types: EVENT_TYPES,
    fromMs: T0,
    toMs: T0 + 48 * HOUR,
  };
  /** The device's users in the window, as a count and by name. */
  const usersOnDevice = async () => {
    const { aggregates, values } = await store.readBatch({
      aggregates: [{ query: window, aggregate: { kind: 'distinct', of: 'userId' } }],
      values: [{ query: window, field: 'userId' }],
    });
    return { count: aggregates[0], users: [...(values[0] ?? [])].sort() };
  };
  const seriesKey = `${prefix}:s:device:farm-device:disbursement`;

  it('counts a user an older writer added and drops one it took out', async () => {
    await store.append([entry(1, 'u1'), entry(2, 'u2')]);
    expect(await usersOnDevice()).toEqual({ count: 2, users: ['u1', 'u2'] });
    // An older process appends straight into the series, as the store did before it had an index.
    await raw.zadd(seriesKey, T0 + 3 * HOUR, JSON.stringify(entry(3, 'u3')));
    expect(await usersOnDevice()).toEqual({ count: 3, users: ['u1', 'u2', 'u3'] });
    // ... and later rolls one of its own back, and adds another, leaving the count where the index last saw it.
    await raw.zrem(seriesKey, JSON.stringify(entry(3, 'u3')));
    await store.append([entry(4, 'u4')]);
    await raw.zadd(seriesKey, T0 + 5 * HOUR, JSON.stringify(entry(5, 'u5')));
    await raw.zrem(seriesKey, JSON.stringify(entry(4, 'u4')));
    expect(await usersOnDevice()).toEqual({ count: 3, users: ['u1', 'u2', 'u5'] });
  });
});
