import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Env } from '../../src/app/config.js';
import { createApp, createHttpServer, type AppOptions, type AppServices } from '../../src/app/app.js';

export const TEST_ADMIN_KEY = 'lg_test_admin_key_0123456789abcdef';

export interface TestApp {
  readonly app: AppServices;
  readonly server: FastifyInstance;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** The whole application, wired as `npm start` wires it, over a fresh SQLite file (or PostgreSQL when given a URL). */
export async function startTestApp(env: Env = {}, options: AppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lg-app-'));
  const config = loadConfig(
    {
      LINEGUARD_KEY: 'ab'.repeat(32),
      LINEGUARD_ADMIN_KEY: TEST_ADMIN_KEY,
      LINEGUARD_SEED_DEMO: '0',
      // Suites that send bureau attributes themselves; test/compliance runs with the sandbox bureau.
      LINEGUARD_BUREAU: 'off',
      LINEGUARD_DATA_DIR: dataDir,
      ...env,
    },
    {},
    () => undefined,
  );
  const app = await createApp(config, options);
  const server = await createHttpServer(app);
  await server.ready();
  return {
    app,
    server,
    dataDir,
    async close() {
      const unguarded = await unguardedWrites(app);
      await server.close();
      await app.close();
      // Every suite that runs the whole app doubles as a check that each idempotent write committed its key with it.
      if (unguarded.length > 0)
        throw new Error(`idempotent writes that did not commit their key: ${unguarded.join(', ')}`);
    },
  };
}

/** Routes whose successful write did not commit its Idempotency-Key in its own unit (src/api/server.ts counts them). */
async function unguardedWrites(app: AppServices): Promise<string[]> {
  const metric = app.metrics.getSingleMetric('lineguard_idempotent_writes_unguarded_total');
  if (!metric) return [];
  const { values } = await metric.get();
  return values.filter((v) => v.value > 0).map((v) => `${String(v.labels.route)} x${v.value}`);
}

export function adminHeaders(idempotencyKey?: string): Record<string, string> {
  return {
    authorization: `Bearer ${TEST_ADMIN_KEY}`,
    ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
  };
}

/** Application attributes the bundled strategy and scorecard approve (a strong German-credit profile). */
export const STRONG_APPLICANT = {
  monthlyIncomeMinor: 3_000_000,
  existingDebtMinor: 0,
  externalDelinquent: false,
  inquiries30d: 0,
  CheckingAccountStatus: 'none',
  Duration: 12,
  Amount: 2000,
  CreditHistory: 'Critical',
  Purpose: 'UsedCar',
  SavingsAccountBonds: 'gt.1000',
  EmploymentDuration: 'gt.7',
  InstallmentRatePercentage: 2,
  Personal: 'Male.Single',
  OtherDebtorsGuarantors: 'Guarantor',
  ResidenceDuration: 4,
  Property: 'RealEstate',
  Age: 45,
  OtherInstallmentPlans: 'None',
  Housing: 'Own',
  NumberExistingCredits: 1,
  Job: 'SkilledEmployee',
  NumberPeopleMaintenance: 1,
  Telephone: 1,
  ForeignWorker: 0,
};

/**
 * STRONG_APPLICANT without the bureau facts (existing debt, external delinquency, recent inquiries): what an applicant
 * sends when the core pulls those from the sandbox bureau itself, which refuses them from the caller.
 */
export const APPLICANT_ONLY = (() => {
  const { existingDebtMinor: _d, externalDelinquent: _e, inquiries30d: _i, ...own } = STRONG_APPLICANT;
  return own;
})();

/**
 * A 助贷 platform operator registered through the API and a key bound to it: the only kind of `partner` key there
 * is (a partner-role key without a partner is refused), for suites that sign in as every role.
 */
/** A loan-facilitation partner as the tests register it. */
export const PARTNER_INPUT = {
  name: '测试助贷平台',
  type: 'PLATFORM_OPERATOR',
  licenceNo: 'TEST-0001',
  contractStart: '2026-01-01',
  contractEnd: '2030-12-31',
};

let partnersMinted = 0;

export async function mintPartnerKey(server: FastifyInstance): Promise<string> {
  const partner = await server.inject({
    method: 'POST',
    url: '/v1/partners',
    headers: adminHeaders(`test-partner-${++partnersMinted}`),
    payload: PARTNER_INPUT,
  });
  if (partner.statusCode !== 201) throw new Error(`partner not registered: ${partner.body}`);
  const minted = await server.inject({
    method: 'POST',
    url: `/v1/partners/${(partner.json() as { id: string }).id}/keys`,
    headers: adminHeaders(),
  });
  if (minted.statusCode !== 201) throw new Error(`partner key not minted: ${minted.body}`);
  return (minted.json() as { key: string }).key;
}
