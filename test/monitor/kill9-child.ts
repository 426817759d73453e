/**
 * Child process for kill9.test.ts: ingests events [from, to) into a SQLite file through the monitor, four batches in
 * flight (so group commit is exercised), printing "acked <n>" after each batch is durable.
 */
import { systemClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { cryptoRandom } from '../../src/domain/random.js';
import { openStore } from '../../src/store/db.js';
import { ListService } from '../../src/monitor/lists.js';
import { monitorListStore } from '../../src/store/monitor-lists.js';
import { monitorPorts } from '../../src/app/monitor.js';
import { MonitorService } from '../../src/monitor/service.js';
import { kill9Event } from './kill9-events.js';

const [file, fromText, toText] = process.argv.slice(2);
const from = Number(fromText);
const to = Number(toText);
const store = await openStore({ sqlitePath: file as string });
const ids = uuidv7Generator(systemClock, cryptoRandom);
const lists = new ListService(monitorListStore(store), {
  clock: systemClock,
  ids,
  masterKey: Buffer.alloc(32, 3),
});
const monitor = new MonitorService({
  ...monitorPorts(store, { clock: systemClock, ids }),
  clock: systemClock,
  ids,
  lists,
  groupCommit: { eventsMax: 400, delayMs: 2 },
});
await monitor.start();
process.stdout.write(`started ${monitor.eventCount}\n`);
const BATCH = 100;
let acked = 0;
const batches: number[] = [];
for (let i = from; i < to; i += BATCH) batches.push(i);
async function worker(): Promise<void> {
  for (;;) {
    const start = batches.shift();
    if (start === undefined) return;
    const events = Array.from({ length: Math.min(BATCH, to - start) }, (_, k) => kill9Event(start + k));
    await monitor.ingest(events);
    acked += events.length;
    process.stdout.write(`acked ${acked}\n`);
  }
}
await Promise.all([worker(), worker(), worker(), worker()]);
await monitor.close();
await store.close();
process.stdout.write('done\n');
