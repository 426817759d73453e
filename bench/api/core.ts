/**
 * The draw path without HTTP, beside its storage floor, in one run.
 *
 * 1. LineGuard: services.core.requestDraw on the benchmark's line (setup.ts: the app as `lineguard serve` wires it),
 *    32 at a time so that they share group commits as concurrent requests do.
 * 2. The floor (floor.ts): the very rows those draws wrote, inserted with prepared statements into a copy of the same
 *    database, 32 at a time, with the same group commit and durability: what a draw costs with no LineGuard logic.
 *
 * Prints JSON: both rates, CPU µs per draw, and the ratio. npm run bench:core -- [--draws 6000]
 */
import { openDrawFloorAfterOneDraw } from './floor.js';
import { DRAW_INPUT } from './payload.js';
import { prepareDrawBench } from './setup.js';

const CONCURRENCY = 32;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

interface Rate {
  readonly drawsPerSecond: number;
  readonly cpuMicrosPerDraw: number;
}

async function measure(draws: number, round: () => Promise<void>): Promise<Rate> {
  const rounds = Math.ceil(draws / CONCURRENCY);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await round();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const done = rounds * CONCURRENCY;
  return {
    drawsPerSecond: Math.round(done / seconds),
    cpuMicrosPerDraw: Math.round((cpu.user + cpu.system) / done),
  };
}

const draws = arg('draws', 6_000);
if (process.env.LINEGUARD_BENCH_DATABASE_URL) {
  throw new Error('bench:core compares against raw SQLite: unset LINEGUARD_BENCH_DATABASE_URL');
}
const { services, lineId, dataDir } = await prepareDrawBench();
const drawOnce = () => services.core.requestDraw(lineId, DRAW_INPUT);
const round = async () => {
  await Promise.all(Array.from({ length: CONCURRENCY }, drawOnce));
};
// Warm the JIT and the caches of both paths before measuring.
await measure(CONCURRENCY * 20, round);
const lineguard = await measure(draws, round);
const floor = await openDrawFloorAfterOneDraw(
  services,
  async () => {
    const drawn = await drawOnce();
    if (!drawn.loan) throw new Error(`the floor's template draw was not approved (${drawn.status})`);
    return drawn.loan.id;
  },
  lineId,
  dataDir,
);
await services.close();

const floorRound = async () => {
  await Promise.all(Array.from({ length: CONCURRENCY }, () => floor.write()));
};
await measure(CONCURRENCY * 20, floorRound);
const raw = await measure(draws, floorRound);
await floor.close();

process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'draws in-process (no HTTP) vs the same rows written raw',
      concurrency: CONCURRENCY,
      draws,
      lineguard,
      rawRowsFloor: raw,
      ratio: Number((lineguard.drawsPerSecond / raw.drawsPerSecond).toFixed(3)),
    },
    null,
    2,
  )}\n`,
);
