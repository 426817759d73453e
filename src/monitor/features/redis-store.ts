import { Redis } from 'ioredis';
import { LgError } from '../../domain/index.js';
import { compareEntries } from './memory-store.js';
import { reconnectWhenSilent } from './redis-silence.js';
import {
  DISTINCT_FIELDS,
  entityKeys,
  type Aggregate,
  type FeatureEntry,
  type FeatureStore,
  type WindowBatch,
  type WindowBatchResult,
  type WindowQuery,
} from './store.js';

/**
 * Scale-out feature store: one Redis sorted set per (entity, id, event type), score = occurredAt, member = the entry as
 * JSON (it carries the eventId, so members are unique). Appends and aggregates run as Lua scripts, so each is atomic
 * against concurrent workers (Redis runs a script to completion before any other command). Single-node Redis: the
 * keys of one script are not slot-aligned for Cluster.
 *
 * Idempotent by event id across processes: a hash `ids` maps each eventId to its state ('p' appended, 'c' committed
 * in the database) followed by the member stored in the series. Two processes may take the same event at once; only
 * one wins the database insert. The winner marks its events committed after its commit (COMMIT_LUA, which also puts
 * the entry back if a loser had already taken it out); a rollback (REMOVE_LUA) never removes a committed entry of the
 * same content, and takes out only its own member. So a loser's rollback cannot delete the winner's entry, whichever
 * order their scripts run in.
 *
 * Two copies of one event differ in their receivedAt (`r`), so "the same content" is the member without it. When a
 * client sent one eventId with other content to two processes at once, the loser's copy may be the one Redis holds
 * when the winner commits: the commit puts the stored content in, and the loser, told by the database that it lost
 * with other content, takes its own copy out of its series (the intake calls remove for it).
 */
const SAME_CONTENT_LUA = `
local function same(a, b)
  return a == b or string.gsub(a, ',"r":[-0-9.e+]+', '', 1) == string.gsub(b, ',"r":[-0-9.e+]+', '', 1)
end`;

/**
 * The value index of a series, which answers "distinct values of a field in a window" without reading the window: per
 * series and distinct field, a sorted set of each value with the latest time it occurs at (`<prefix>:d:<entity>:<id>:
 * <type>:<field>`). When no entry of the series lies after a window, a value occurs in (from, to] iff its latest time
 * is after `from`, so the window's values are one range read of the index: O(values), not O(entries). A device shared
 * by thousands of accounts (a device farm, or a default id from a broken app) otherwise made every draw on it decode
 * every entry of its day in Redis's one thread, which bounds the whole fleet.
 *
 * `<prefix>:dix` maps a series key to the entry count the index was last kept at. An index is used only when that
 * count is the series' own; any write that bypassed the index (a process of an earlier version during a rolling
 * deploy, a series written before the index existed) makes them differ, and the next read rebuilds the index from the
 * series. ARGV carries the prefix (P) so the scripts can name these keys; KEYS names only the series and the id hash.
 */
const VALUE_INDEX_LUA = `
local FIELDS = {${DISTINCT_FIELDS.map((field) => `'${field}'`).join(', ')}}
local SP, DP, DIX = P .. ':s:', P .. ':d:', P .. ':dix'
local function ix(k, f) return DP .. string.sub(k, #SP + 1) .. ':' .. f end
local function dropIndex(k)
  for _, f in ipairs(FIELDS) do redis.call('DEL', ix(k, f)) end
  redis.call('HDEL', DIX, k)
end
local function indexKeptAt(k, n)
  local kept = redis.call('HGET', DIX, k)
  return kept ~= false and tonumber(kept) == n
end
local function indexValues(k, t, values)
  for i, f in ipairs(FIELDS) do
    local v = values[i]
    if type(v) == 'string' then redis.call('ZADD', ix(k, f), 'GT', t, v) end
  end
end
-- Adds a member to a series, keeping its index when the index is current (or the series was empty).
local function addToSeries(k, t, m, values)
  local before = redis.call('ZCARD', k)
  local current = before == 0 or indexKeptAt(k, before)
  if redis.call('ZADD', k, t, m) == 0 then return end
  -- A write the index missed makes it unusable until a read rebuilds it, even should the counts meet again.
  if not current then redis.call('HDEL', DIX, k) return end
  if before == 0 then dropIndex(k) end
  indexValues(k, t, values)
  redis.call('HSET', DIX, k, before + 1)
end
-- A value whose latest time was the removed entry's takes the latest time among the entries left (a rare path: a
-- rolled-back event).
local function unindexValues(k, t, values)
  for i, f in ipairs(FIELDS) do
    local v = values[i]
    if type(v) == 'string' then
      local key = ix(k, f)
      local s = redis.call('ZSCORE', key, v)
      if s and tonumber(s) == t then
        local latest = nil
        local left = redis.call('ZREVRANGEBYSCORE', k, t, '-inf', 'WITHSCORES')
        for j = 1, #left, 2 do
          if cjson.decode(left[j])[f] == v then latest = left[j + 1]; break end
        end
        if latest then redis.call('ZADD', key, latest, v) else redis.call('ZREM', key, v) end
      end
    end
  end
end
local function removeFromSeries(k, t, m, values)
  local before = redis.call('ZCARD', k)
  local current = indexKeptAt(k, before)
  if redis.call('ZREM', k, m) == 0 then return end
  if before == 1 then dropIndex(k) return end
  if not current then redis.call('HDEL', DIX, k) return end
  unindexValues(k, t, values)
  redis.call('HSET', DIX, k, before - 1)
end
-- Before a read of the index: rebuilt from the series when a write bypassed it.
local function ensureIndexed(k)
  local n = redis.call('ZCARD', k)
  if n == 0 or indexKeptAt(k, n) then return end
  for _, f in ipairs(FIELDS) do redis.call('DEL', ix(k, f)) end
  local all = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  for j = 1, #all, 2 do
    local e = cjson.decode(all[j])
    local values = {}
    for i, f in ipairs(FIELDS) do values[i] = e[f] end
    indexValues(k, all[j + 1], values)
  end
  redis.call('HSET', DIX, k, n)
end`;

/**
 * ARGV of the per-entry scripts: eventId, occurredAt, member, prefix, then per DISTINCT_FIELDS field 'v' followed by
 * the entry's value, or '' when it has none (an empty string is a value like any other).
 */
const ENTRY_ARGS_LUA = `
local P = ARGV[4]
local VALUES = {}
for i = 1, ${DISTINCT_FIELDS.length} do
  local given = ARGV[4 + i]
  if given == '' then VALUES[i] = false else VALUES[i] = string.sub(given, 2) end
end`;

const APPEND_LUA = `${ENTRY_ARGS_LUA}${VALUE_INDEX_LUA}
if redis.call('HSETNX', KEYS[1], ARGV[1], 'p' .. ARGV[3]) == 0 then return 0 end
for i = 2, #KEYS do addToSeries(KEYS[i], ARGV[2], ARGV[3], VALUES) end
return 1`;

const COMMIT_LUA = `${ENTRY_ARGS_LUA}${VALUE_INDEX_LUA}${SAME_CONTENT_LUA}
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and same(string.sub(v, 2), ARGV[3]) then
  if string.sub(v, 1, 1) ~= 'c' then redis.call('HSET', KEYS[1], ARGV[1], 'c' .. string.sub(v, 2)) end
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], 'c' .. ARGV[3])
for i = 2, #KEYS do addToSeries(KEYS[i], ARGV[2], ARGV[3], VALUES) end
return 1`;

// Takes out this process's own member (ARGV[3]) from its own series (KEYS[2..]); forgets the id only when the hash
// still maps it to that member, uncommitted.
const REMOVE_LUA = `${ENTRY_ARGS_LUA}${VALUE_INDEX_LUA}${SAME_CONTENT_LUA}
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local m = string.sub(v, 2)
if string.sub(v, 1, 1) == 'c' and same(m, ARGV[3]) then return 0 end
if m == ARGV[3] then redis.call('HDEL', KEYS[1], ARGV[1]) end
for i = 2, #KEYS do removeFromSeries(KEYS[i], tonumber(ARGV[2]), ARGV[3], VALUES) end
return 1`;

// KEYS: one series, the id hash. ARGV: olderThanMs, '1' when the series is a user's, the prefix. Every entry sits in
// exactly one user series, so its id is forgotten (and it is counted) there; the other series only drop their copies.
// A value whose latest time is at or before the horizon has no entry left after it, so its index member goes too.
const PRUNE_LUA = `
local P = ARGV[3]${VALUE_INDEX_LUA}
local n = 0
if ARGV[2] == '1' then
  local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
  for _, m in ipairs(members) do redis.call('HDEL', KEYS[2], cjson.decode(m).eventId) end
  n = #members
end
local before = redis.call('ZCARD', KEYS[1])
local current = indexKeptAt(KEYS[1], before)
local dropped = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if before - dropped == 0 then
  dropIndex(KEYS[1])
elseif dropped > 0 and not current then
  redis.call('HDEL', DIX, KEYS[1])
elseif dropped > 0 then
  for _, f in ipairs(FIELDS) do redis.call('ZREMRANGEBYSCORE', ix(KEYS[1], f), '-inf', ARGV[1]) end
  redis.call('HSET', DIX, KEYS[1], before - dropped)
end
return n`;

/**
 * A WindowBatch in one script (one round trip for a draw's 20+ windows). KEYS: every series key the batch reads, each
 * once (a draw's windows name the same few series again and again: sent once, the script's arguments are a fifth of
 * the bytes). ARGV[1]: a JSON array of strings, the key prefix, the aggregate count, then per aggregate `nkeys
 * key-index... fromMs toMs knownAt kind operand` (indices into KEYS, fromMs exclusive, knownAt '' = none; the operand
 * is a distinct count's field or a sinceFirstSeenOn's device id); the values
 * count, then per values read `nkeys key-index... fromMs toMs knownAt field`. Answers {aggregates, values}; an aggregate
 * with no answer (time since, over an empty window) is false (nil to the client).
 *
 * A window seen as of now (no knownAt) takes the cheap reads: a count is ZCOUNT, a time since is the window's last
 * score, and distinct values come from the value index. Sums, maxima and windows as known at an instant read the
 * window's entries, each member decoded once per batch however many windows hold it.
 */
const BATCH_LUA = `
local A = cjson.decode(ARGV[1])
local P = A[1]${VALUE_INDEX_LUA}
local decoded = {}
local function decode(m)
  local e = decoded[m]
  if e == nil then e = cjson.decode(m); decoded[m] = e end
  return e
end
local function each(ks, from, to, knownAt, visit)
  for _, i in ipairs(ks) do
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[i], from, to)) do
      local e = decode(m)
      if knownAt == nil or e.r <= knownAt then visit(e) end
    end
  end
end
-- Each distinct value of field in (from, to] as of now, once per key that holds it.
local function eachValue(ks, from, to, field, visit)
  for _, i in ipairs(ks) do
    local k = KEYS[i]
    if redis.call('ZCOUNT', k, '(' .. to, '+inf') > 0 then
      -- An entry after the window: a value's latest time no longer says whether it occurs inside.
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', k, from, to)) do
        local v = decode(m)[field]
        if v ~= nil then visit(v) end
      end
    else
      ensureIndexed(k)
      for _, v in ipairs(redis.call('ZRANGEBYSCORE', ix(k, field), from, to)) do visit(v) end
    end
  end
end
local function latestScore(ks, from, to)
  local latest = nil
  for _, i in ipairs(ks) do
    local r = redis.call('ZREVRANGEBYSCORE', KEYS[i], to, from, 'WITHSCORES', 'LIMIT', 0, 1)
    if r[2] then
      local s = tonumber(r[2])
      if latest == nil or s > latest then latest = s end
    end
  end
  return latest
end
local function aggregate(ks, from, to, knownAt, kind, field)
  if knownAt == nil then
    if kind == 'count' then
      local n = 0
      for _, i in ipairs(ks) do n = n + redis.call('ZCOUNT', KEYS[i], from, to) end
      return n
    end
    if kind == 'timeSince' then
      local latest = latestScore(ks, from, to)
      if latest == nil then return false end
      return tonumber(to) - latest
    end
    if kind == 'distinct' then
      local seen, distinct = {}, 0
      eachValue(ks, from, to, field, function(v)
        if not seen[v] then seen[v] = true; distinct = distinct + 1 end
      end)
      return distinct
    end
  end
  local n, sum, max, latest, first = 0, 0, 0, nil, nil
  local seen, distinct = {}, 0
  each(ks, from, to, knownAt, function(e)
    n = n + 1
    local a = e.amountMinor or 0
    sum = sum + a
    if a > max then max = a end
    if latest == nil or e.t > latest then latest = e.t end
    local v = e[field]
    if v ~= nil and not seen[v] then seen[v] = true; distinct = distinct + 1 end
    if e.deviceId == field and (first == nil or e.r < first) then first = e.r end
  end)
  if kind == 'sinceFirstSeenOn' then
    if first == nil then return false end
    return tonumber(to) - first
  end
  if kind == 'count' then return n end
  if kind == 'sum' then return sum end
  if kind == 'max' then return max end
  if kind == 'distinct' then return distinct end
  if latest == nil then return false end
  return tonumber(to) - latest
end
local function values(ks, from, to, knownAt, field)
  local seen, out = {}, {}
  local function visit(v)
    if not seen[v] then seen[v] = true; out[#out + 1] = v end
  end
  if knownAt == nil then
    eachValue(ks, from, to, field, visit)
  else
    each(ks, from, to, knownAt, function(e)
      local v = e[field]
      if v ~= nil then visit(v) end
    end)
  end
  return out
end
local a = 3
local function series()
  local n = tonumber(A[a])
  local ks = {}
  for j = 1, n do ks[j] = tonumber(A[a + j]) end
  a = a + n + 1
  return ks
end
local aggregates, found = {}, {}
for j = 1, tonumber(A[2]) do
  local ks = series()
  aggregates[j] = aggregate(ks, '(' .. A[a], A[a + 1], tonumber(A[a + 2]), A[a + 3], A[a + 4])
  a = a + 5
end
local valueReads = tonumber(A[a])
a = a + 1
for j = 1, valueReads do
  local ks = series()
  found[j] = values(ks, '(' .. A[a], A[a + 1], tonumber(A[a + 2]), A[a + 3])
  a = a + 4
end
return {aggregates, found}`;

export interface RedisFeatureStoreOptions {
  readonly url: string;
  /** Key prefix, so several deployments or test suites share one Redis without seeing each other. */
  readonly prefix?: string;
  /** A command not answered within this fails (the monitor answers 503) instead of hanging (default 2 s). */
  readonly commandTimeoutMs?: number;
  /** Told about connection errors (default: a process warning, at most one per outage). */
  readonly onError?: (error: Error) => void;
}

/** What /health shows about a dependency. */
export interface DependencyStatus {
  readonly ok: boolean;
  readonly detail?: string;
}

export class RedisFeatureStore implements FeatureStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly prefix: string;
  private lastError: string | undefined;
  private readonly stopSilenceChecks: () => void;

  constructor(options: RedisFeatureStoreOptions) {
    this.redis = new Redis(options.url, {
      // Fail a command after one reconnect attempt rather than queue it for long: intake answers 503 and the
      // client retries, while ioredis keeps reconnecting in the background (its default backoff, capped at 2 s).
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      lazyConnect: false,
      // A draw's signals read about twenty features at once (monitor/signals.ts); without this each command is its
      // own socket write, and those writes were the largest item of a fleet draw's CPU after PostgreSQL's. Commands
      // issued in one turn of the event loop go out as one write; each script still runs atomically and in order.
      enableAutoPipelining: true,
    });
    this.prefix = options.prefix ?? 'lg:f';
    // ioredis emits 'error' on every failed (re)connect; without a listener it logs each one as unhandled.
    const report =
      options.onError ??
      ((error: Error) => process.emitWarning(`Redis: ${error.message}`, 'LineGuardWarning'));
    this.redis.on('error', (error: Error) => {
      if (this.lastError === undefined) report(error);
      this.lastError = error.message;
    });
    this.redis.on('ready', () => {
      this.lastError = undefined;
    });
    this.redis.defineCommand('lgAppend', { lua: APPEND_LUA });
    this.redis.defineCommand('lgCommit', { lua: COMMIT_LUA });
    this.redis.defineCommand('lgRemove', { lua: REMOVE_LUA });
    this.redis.defineCommand('lgBatch', { lua: BATCH_LUA });
    this.redis.defineCommand('lgPrune', { lua: PRUNE_LUA });
    this.stopSilenceChecks = reconnectWhenSilent(this.redis);
  }

  /** Connected and ready, or why not (for /health). */
  status(): DependencyStatus {
    if (this.redis.status === 'ready') return { ok: true };
    return { ok: false, detail: this.lastError ?? `connection ${this.redis.status}` };
  }

  /** A round trip to Redis, bounded by the command timeout (for /health). */
  async ping(): Promise<DependencyStatus> {
    try {
      await this.redis.ping();
      return { ok: true };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Adds entries not yet known (by eventId), as not yet committed. */
  async append(entries: readonly FeatureEntry[]): Promise<void> {
    await this.guard(this.perEntry('lgAppend', entries));
  }

  /**
   * Marks entries as committed in the database (after the commit): from then on no rollback removes them, and an
   * entry a concurrent loser took out is put back.
   */
  async commit(entries: readonly FeatureEntry[]): Promise<void> {
    await this.guard(this.perEntry('lgCommit', entries));
  }

  /** Takes out entries whose events never committed; a committed entry (another process's win) stays. */
  async remove(entries: readonly FeatureEntry[]): Promise<void> {
    await this.guard(this.perEntry('lgRemove', entries));
  }

  events(query: WindowQuery, limit = Number.MAX_SAFE_INTEGER): Promise<FeatureEntry[]> {
    return this.guard(this.readEvents(query, limit));
  }

  async aggregate(query: WindowQuery, aggregate: Aggregate): Promise<number | null> {
    const result = await this.readBatch({ aggregates: [{ query, aggregate }] });
    return result.aggregates[0] ?? null;
  }

  readBatch(batch: WindowBatch): Promise<WindowBatchResult> {
    const keys: string[] = [];
    /** Each series key's 1-based place in KEYS. */
    const placeOf = new Map<string, number>();
    const args: string[] = [this.prefix, String(batch.aggregates.length)];
    const window = (query: WindowQuery) => {
      args.push(String(query.types.length));
      for (const type of query.types) {
        const key = this.seriesKey(query.entity, query.id, type);
        let place = placeOf.get(key);
        if (place === undefined) {
          place = keys.push(key);
          placeOf.set(key, place);
        }
        args.push(String(place));
      }
      args.push(
        String(query.fromMs),
        String(query.toMs),
        query.knownAt === undefined ? '' : String(query.knownAt),
      );
    };
    for (const { query, aggregate } of batch.aggregates) {
      window(query);
      args.push(aggregate.kind, aggregateOperand(aggregate));
    }
    const valueReads = batch.values ?? [];
    args.push(String(valueReads.length));
    for (const { query, field } of valueReads) {
      window(query);
      args.push(field);
    }
    // The spec goes as one JSON argument: a draw's batch is some 180 values, and the client spent more on framing each
    // as its own argument than the script spends decoding them in one call.
    return this.guard(
      this.runScript('lgBatch', keys, [JSON.stringify(args)]).then((reply) => {
        const [aggregates, values] = reply as [(number | null)[], string[][]];
        return { aggregates: aggregates.map((v) => (v === null ? null : Number(v))), values };
      }),
    );
  }

  /**
   * Bounded memory, as the memory store: drops entries with occurredAt <= olderThanMs from every series (Redis deletes
   * a sorted set left empty) and forgets their event ids. Walks the series keys with SCAN, a page per pipeline; each
   * series is pruned by one script, so a concurrent append never sees half of it. Returns how many events were dropped.
   */
  prune(olderThanMs: number): Promise<number> {
    return this.guard(this.pruneSeries(olderThanMs));
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
    this.stopSilenceChecks();
    // quit waits for Redis to answer; when it is down, drop the connection instead of waiting for it.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  /** One script per entry in one pipeline; returns the entries for which the script returned 1. */
  private async perEntry(
    name: 'lgAppend' | 'lgCommit' | 'lgRemove',
    entries: readonly FeatureEntry[],
  ): Promise<FeatureEntry[]> {
    if (entries.length === 0) return [];
    // Custom commands in an ioredis pipeline use EVALSHA and load the script on NOSCRIPT by themselves.
    const pipeline = this.redis.pipeline() as unknown as ScriptPipeline;
    for (const entry of entries) {
      const keys = [
        this.idsKey(),
        ...entityKeys(entry).map(([entity, id]) => this.seriesKey(entity, id, entry.type)),
      ];
      pipeline[name](
        keys.length,
        ...keys,
        entry.eventId,
        String(entry.t),
        JSON.stringify(entry),
        this.prefix,
        ...DISTINCT_FIELDS.map((field) => (entry[field] === undefined ? '' : `v${entry[field]}`)),
      );
    }
    const results = (await pipeline.exec()) ?? [];
    const changed: FeatureEntry[] = [];
    results.forEach(([error, n], i) => {
      if (error) throw error;
      if (Number(n) === 1) changed.push(entries[i] as FeatureEntry);
    });
    return changed;
  }

  private async readEvents(query: WindowQuery, limit: number): Promise<FeatureEntry[]> {
    // Separate commands, not an explicit pipeline: auto-pipelining sends the reads of every typology evaluating the
    // same event, and any other command of the same turn, in one socket write (one system call, not one per read).
    const results = await Promise.all(
      query.types.map((type) =>
        this.redis.zrangebyscore(
          this.seriesKey(query.entity, query.id, type),
          `(${query.fromMs}`,
          query.toMs,
        ),
      ),
    );
    const out: FeatureEntry[] = [];
    for (const members of results) {
      for (const member of members) {
        const entry = JSON.parse(member) as FeatureEntry;
        if (query.knownAt === undefined || entry.r <= query.knownAt) out.push(entry);
      }
    }
    out.sort(compareEntries);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  private async pruneSeries(olderThanMs: number): Promise<number> {
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
        pipeline.lgPrune(2, key, this.idsKey(), String(olderThanMs), isUser, this.prefix);
      }
      for (const [error, n] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        dropped += Number(n);
      }
    } while (cursor !== '0');
    return dropped;
  }

  /**
   * A lost connection, a refused reconnect or a timed-out command is LG_FEATURES_UNAVAILABLE (503 with Retry-After):
   * the monitor cannot evaluate an event or a draw without its windows, and answering without them would be a
   * silent approval (fail closed). A Redis reply error (a script bug) stays a plain error.
   */
  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'ReplyError') throw error;
      throw new LgError('LG_FEATURES_UNAVAILABLE', 'the feature store (Redis) is unreachable; retry shortly');
    }
  }

  private idsKey(): string {
    return `${this.prefix}:ids`;
  }

  private seriesKey(entity: string, id: string, type: string): string {
    return `${this.prefix}:s:${entity}:${id}:${type}`;
  }

  private async runScript(name: 'lgBatch', keys: string[], args: string[]): Promise<unknown> {
    const command = (
      this.redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>
    )[name];
    if (!command) throw new Error(`redis script ${name} is not defined`);
    return command.call(this.redis, keys.length, ...keys, ...args);
  }
}

interface ScriptPipeline {
  lgAppend(...args: (string | number)[]): ScriptPipeline;
  lgCommit(...args: (string | number)[]): ScriptPipeline;
  lgRemove(...args: (string | number)[]): ScriptPipeline;
  lgPrune(...args: (string | number)[]): ScriptPipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** What an aggregate's kind is computed over, as the batch script reads it: a field, a device id, or nothing. */
function aggregateOperand(aggregate: Aggregate): string {
  if (aggregate.kind === 'distinct') return aggregate.of;
  if (aggregate.kind === 'sinceFirstSeenOn') return aggregate.deviceId;
  return '';
}
