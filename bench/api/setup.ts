/**
 * The application the draw benchmarks measure, wired exactly as `lineguard serve` wires it (engine, scorecard, monitor
 * signals, outbox relay, durable SQLite file unless LINEGUARD_BENCH_DATABASE_URL names PostgreSQL), with one line whose
 * limit is big enough for every draw of a run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/app/config.js';
import { createApp, type AppServices } from '../../src/app/app.js';
import { seedDemo } from '../../src/core/index.js';

const BIG_LIMIT_MINOR = 1_000_000_000_000;

export interface DrawBench {
  readonly services: AppServices;
  readonly lineId: string;
  readonly dataDir: string;
}

export async function prepareDrawBench(): Promise<DrawBench> {
  const dataDir = mkdtempSync(join(process.env.LINEGUARD_BENCH_SQLITE_DIR ?? tmpdir(), 'lg-bench-draws-'));
  const config = loadConfig(
    {
      LINEGUARD_KEY: '01'.repeat(32),
      LINEGUARD_DATA_DIR: dataDir,
      LINEGUARD_DATABASE_URL: process.env.LINEGUARD_BENCH_DATABASE_URL,
      LINEGUARD_BORROWER_CAP_MINOR: String(BIG_LIMIT_MINOR * 10),
      // One client and one key at full speed is the benchmark's load, not abuse: no request limits.
      LINEGUARD_RATE_LIMIT_PER_KEY: '0',
      LINEGUARD_RATE_LIMIT_PER_IP: '0',
      // The demo applicants send their bureau attributes (no consents here): the benchmark measures draws.
      LINEGUARD_BUREAU: 'off',
    },
    {},
    () => undefined,
  );
  const services = await createApp(config);
  const { store, engine } = services;
  // One line drawing thousands of times a second is velocity by definition; the benchmark measures the approve path,
  // so it runs the bundled draw strategy without its velocity (cooling-off) node.
  const draw = await engine.getVersion('draw', 1);
  const velocityInputs = new Set(['drawsLast24h', 'minutesSinceLastDraw']);
  const lean = {
    ...draw.document,
    inputs: draw.document.inputs.filter((i) => !velocityInputs.has(i.name)),
    nodes: draw.document.nodes.filter((n) => n.id !== 'velocity'),
  };
  const saved = await engine.saveVersion(lean, 'bench');
  await engine.activate('draw', saved.version, 'bench');
  await seedDemo(services.core);
  const line = await store.db
    .selectFrom('credit_lines')
    .select(['id'])
    .where('status', '=', 'ACTIVE')
    .orderBy('limit_minor', 'desc')
    .executeTakeFirstOrThrow();
  await services.core.applyLineAction(line.id, {
    type: 'LIMIT_INCREASE',
    limitMinor: BIG_LIMIT_MINOR,
    reasons: ['R_LIMIT_REVIEW'],
    automated: false,
    actor: 'bench',
  });
  return { services, lineId: line.id, dataDir };
}
