import type { FastifyInstance } from 'fastify';
import { buildServer, createMetricsRegistry } from '../../src/api/server.js';
import { createApiKey, createKeyVerifier } from '../../src/api/api-keys.js';
import { coreRoutes } from '../../src/api/routes/core.js';
import { productRoutes } from '../../src/api/routes/products.js';
import { quoteRoutes } from '../../src/api/routes/quotes.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { openStore, type Store } from '../../src/store/db.js';
import { makeCore, type Harness } from '../core/harness.js';
import { rowCount, type StoreFactory } from '../helpers/stores.js';
import type { FastifyPluginAsync } from 'fastify';

export const MS_DAY = 86_400_000;

/** The daily-interest product of the worked example: 18.25% a year ACT/365 = 0.05% a day (¥5 a day on ¥10,000). */
export const DAILY_PRODUCT = {
  id: 'daily-flex',
  name: '随借随还 日息',
  currency: 'CNY',
  rateMin: 0.0365,
  rateMax: 0.1825,
  dayCount: 'ACT_365',
  termsMonths: [1, 3, 6, 12],
  methods: ['DAILY_INTEREST', 'EQUAL_INSTALLMENT', 'EQUAL_PRINCIPAL'],
  amountMinMinor: 10_000,
  amountMaxMinor: 20_000_000,
  lateFee: { amountMinor: 2_000, capMinor: 10_000 },
  graceDays: 3,
};

export interface LendingEnv {
  readonly store: Store;
  readonly h: Harness;
  readonly app: FastifyInstance;
  readonly adminKey: string;
  headers(idempotent?: boolean): Record<string, string>;
  close(): Promise<void>;
}

/** The core with the product and core routes over HTTP, on in-memory SQLite; the engine approves unless scripted. */
export async function lendingEnv(
  extraRoutes: (h: Harness) => FastifyPluginAsync[] = () => [],
  factory?: StoreFactory,
  core: { lenderUtcOffsetMinutes?: number } = {},
): Promise<LendingEnv> {
  const store = factory ? await factory.open('lending') : await openStore({ sqlitePath: ':memory:' });
  const h = makeCore(store, core);
  // Draws approved at the line's own rate (the scripted default would price every draw at 18%).
  h.engine.script.draw = () => ({ outcome: 'APPROVE' });
  const random = seededRandom(5);
  const adminKey = (
    await createApiKey(store.db, { clock: h.clock, ids: uuidv7Generator(h.clock, random), random }, 'admin')
  ).key;
  const app = await buildServer({
    store,
    clock: h.clock,
    metrics: createMetricsRegistry(),
    requestBytesMax: 65_536,
    verifyKey: createKeyVerifier(store.db, h.clock),
    routes: [coreRoutes(h.core), productRoutes(h.core), quoteRoutes(h.core), ...extraRoutes(h)],
    crypto: h.deps.crypto,
  });
  let n = 0;
  return {
    store,
    h,
    app,
    adminKey,
    headers: (idempotent = true) => ({
      authorization: `Bearer ${adminKey}`,
      ...(idempotent ? { 'idempotency-key': `k-${++n}` } : {}),
    }),
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** The shared row count (test/helpers/stores.ts), under the name the lending suites use. */
export const countRows = rowCount;

let partnersRegistered = 0;

/**
 * A 助贷 partner registered over the API (the env must serve partnerRoutes), charging feeRateBps a year on the amount
 * drawn: its id. Each gets its own name and licence number.
 */
export async function registerPartner(env: LendingEnv, type: string, feeRateBps = 0): Promise<string> {
  const n = ++partnersRegistered;
  const res = await env.app.inject({
    method: 'POST',
    url: '/v1/partners',
    headers: env.headers(),
    payload: {
      name: `${type} ${n}`,
      type,
      licenceNo: `LND-${n}`,
      contractStart: '2025-01-01',
      contractEnd: '2027-12-31',
      feeRateBps,
    },
  });
  if (res.statusCode !== 201) throw new Error(`partner not registered: ${res.body}`);
  return res.json<{ id: string }>().id;
}
