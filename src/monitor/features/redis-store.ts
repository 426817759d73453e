import { Redis } from 'ioredis';
import type { EventType } from '../events.js';
import { compareEntries } from './memory-store.js';
import {
  entityKeys,
  type Aggregate,
  type FeatureEntry,
  type FeatureStore,
  type WindowQuery,
} from './store.js';

/**
 * Scale-out feature store: one Redis sorted set per (entity, id, event type), score = occurredAt, member = the entry as
 * JSON (it carries the eventId, so members are unique). Appends and aggregates run as Lua scripts, so each is atomic
 * against concurrent workers (Redis runs a script to completion before any other command). A set of known eventIds
 * makes appends idempotent across workers. Single-node Redis: the keys of one script are not slot-aligned for Cluster.
 */
const APPEND_LUA = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #KEYS do redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3]) end
return 1`;

const REMOVE_LUA = `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2]) end
return 1`;

// KEYS: one series, the known-id set. ARGV: olderThanMs, '1' when the series is a user's. Every entry sits in exactly
// one user series, so its id is forgotten (and it is counted) there; the other series only drop their copies.
const PRUNE_LUA = `
local n = 0
if ARGV[2] == '1' then
  local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  for _, m in ipairs(members) do redis.call('SREM', KEYS[2], cjson.decode(m).eventId) end
  n = #members
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return n`;

// ARGV: fromMs (exclusive), toMs, knownAt ('' = none), kind, field
const AGGREGATE_LUA = `
local from, to, kind, field = '(' .. ARGV[1], ARGV[2], ARGV[4], ARGV[5]
local knownAt = tonumber(ARGV[3])
if kind == 'count' and knownAt == nil then
  local n = 0
  for i = 1, #KEYS do n = n + redis.call('ZCOUNT', KEYS[i], from, to) end
  return n
end
local n, sum, max, last = 0, 0, 0, nil
local seen, distinct = {}, 0
for i = 1, #KEYS do
  local members = redis.call('ZRANGEBYSCORE', KEYS[i], from, to)
  for _, m in ipairs(members) do
    local e = cjson.decode(m)
    if knownAt == nil or e.r <= knownAt then
      n = n + 1
      local a = e.amountMinor or 0
      sum = sum + a
      if a > max then max = a end
      if last == nil or e.t > last then last = e.t end
      local v = e[field]
      if v ~= nil and not seen[v] then seen[v] = true; distinct = distinct + 1 end
    end
  end
end
if kind == 'count' then return n end
if kind == 'sum' then return sum end
if kind == 'max' then return max end
if kind == 'distinct' then return distinct end
if last == nil then return false end
return tonumber(to) - last`;

export interface RedisFeatureStoreOptions {
  readonly url: string;
  /** Key prefix, so several deployments or test suites share one Redis without seeing each other. */
  readonly prefix?: string;
}

export class RedisFeatureStore implements FeatureStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(options: RedisFeatureStoreOptions) {
    this.redis = new Redis(options.url, { maxRetriesPerRequest: 3, lazyConnect: false });
    this.prefix = options.prefix ?? 'lg:f';
    this.redis.defineCommand('lgAppend', { lua: APPEND_LUA });
    this.redis.defineCommand('lgRemove', { lua: REMOVE_LUA });
    this.redis.defineCommand('lgAggregate', { lua: AGGREGATE_LUA });
    this.redis.defineCommand('lgPrune', { lua: PRUNE_LUA });
  }

  async append(entries: readonly FeatureEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // Custom commands in an ioredis pipeline use EVALSHA and load the script on NOSCRIPT by themselves.
    const pipeline = this.redis.pipeline() as unknown as ScriptPipeline;
    for (const entry of entries) {
      const keys = [
        this.knownKey(),
        ...entityKeys(entry).map(([entity, id]) => this.seriesKey(entity, id, entry.type)),
      ];
      pipeline.lgAppend(keys.length, ...keys, entry.eventId, String(entry.t), JSON.stringify(entry));
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
  }

  async remove(entries: readonly FeatureEntry[]): Promise<void> {
    for (const entry of entries) {
      const keys = [
        this.knownKey(),
        ...entityKeys(entry).map(([entity, id]) => this.seriesKey(entity, id, entry.type)),
      ];
      await this.runScript('lgRemove', keys, [entry.eventId, JSON.stringify(entry)]);
    }
  }

  async events(query: WindowQuery, limit = Number.MAX_SAFE_INTEGER): Promise<FeatureEntry[]> {
    const pipeline = this.redis.pipeline();
    for (const type of query.types)
      pipeline.zrangebyscore(this.seriesKey(query.entity, query.id, type), `(${query.fromMs}`, query.toMs);
    const results = (await pipeline.exec()) ?? [];
    const out: FeatureEntry[] = [];
    for (const [error, members] of results) {
      if (error) throw error;
      for (const member of members as string[]) {
        const entry = JSON.parse(member) as FeatureEntry;
        if (query.knownAt === undefined || entry.r <= query.knownAt) out.push(entry);
      }
    }
    out.sort(compareEntries);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  async aggregate(query: WindowQuery, aggregate: Aggregate): Promise<number | null> {
    const keys = query.types.map((type: EventType) => this.seriesKey(query.entity, query.id, type));
    const field = aggregate.kind === 'distinct' ? aggregate.of : '';
    const args = [
      String(query.fromMs),
      String(query.toMs),
      query.knownAt === undefined ? '' : String(query.knownAt),
      aggregate.kind,
      field,
    ];
    const result = await this.runScript('lgAggregate', keys, args);
    return result === null ? null : Number(result);
  }

  /**
   * Bounded memory, as the memory store: drops entries with occurredAt <= olderThanMs from every series (Redis deletes
   * a sorted set left empty) and forgets their event ids. Walks the series keys with SCAN, a page per pipeline; each
   * series is pruned by one script, so a concurrent append never sees half of it. Returns how many events were dropped.
   */
  async prune(olderThanMs: number): Promise<number> {
    const userSeries = `${this.prefix}:s:user:`;
    let dropped = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:s:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = this.redis.pipeline() as unknown as ScriptPipeline;
      for (const key of keys) {
        const isUser = key.startsWith(userSeries) ? '1' : '0';
        pipeline.lgPrune(2, key, this.knownKey(), String(olderThanMs), isUser);
      }
      for (const [error, n] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        dropped += Number(n);
      }
    } while (cursor !== '0');
    return dropped;
  }

  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }

  private knownKey(): string {
    return `${this.prefix}:known`;
  }

  private seriesKey(entity: string, id: string, type: string): string {
    return `${this.prefix}:s:${entity}:${id}:${type}`;
  }

  private async runScript(
    name: 'lgAppend' | 'lgRemove' | 'lgAggregate',
    keys: string[],
    args: string[],
  ): Promise<unknown> {
    const command = (
      this.redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>
    )[name];
    if (!command) throw new Error(`redis script ${name} is not defined`);
    return command.call(this.redis, keys.length, ...keys, ...args);
  }
}

interface ScriptPipeline {
  lgAppend(...args: (string | number)[]): ScriptPipeline;
  lgPrune(...args: (string | number)[]): ScriptPipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}
