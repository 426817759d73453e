import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { KILL9_T0, KILL9_USERS, kill9Event } from './kill9-events.js';
import { openTestMonitor } from './helpers.js';

const TOTAL = 10_000;
const CHILD = join(import.meta.dirname, 'kill9-child.ts');

function run(file: string, onLine: (line: string, child: ChildProcess) => void): Promise<number | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, '0', String(TOTAL)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl), child);
      buffer = buffer.slice(nl + 1);
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('kill -9 during a 10,000-event ingest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-kill9-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses nothing and duplicates nothing when the client re-sends everything', async () => {
    const file = join(dir, 'monitor.db');
    let ackedBeforeKill = 0;
    await run(file, (line, child) => {
      const m = /^acked (\d+)$/.exec(line);
      if (m && Number(m[1]) >= 3_000 && ackedBeforeKill === 0) {
        ackedBeforeKill = Number(m[1]);
        child.kill('SIGKILL');
      }
    });
    expect(ackedBeforeKill).toBeGreaterThanOrEqual(3_000);
    const store = await openStore({ sqlitePath: file });
    const afterCrash = Number(
      (
        await store.db
          .selectFrom('monitor_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    await store.close();
    // Every acknowledged event survived the process crash (committed before acknowledged). SIGKILL keeps the OS page
    // cache, so this cannot see a missing fsync; test/store/group-commit.test.ts checks that callers wait for it.
    expect(afterCrash).toBeGreaterThanOrEqual(ackedBeforeKill);
    expect(afterCrash).toBeLessThan(TOTAL);

    let started = -1;
    const code = await run(file, (line) => {
      const m = /^started (\d+)$/.exec(line);
      if (m) started = Number(m[1]);
    });
    expect(code).toBe(0);
    expect(started).toBe(afterCrash); // state rebuilt from the store on restart

    const check = await openStore({ sqlitePath: file });
    const rows = await check.db.selectFrom('monitor_events').select(['event_id', 'result']).execute();
    expect(rows).toHaveLength(TOTAL);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(TOTAL);
    expect(rows.every((r) => r.result.startsWith('{'))).toBe(true);
    // One alert per (typology, borrower): a re-sent event never raised a second one.
    const alerts = await check.db.selectFrom('monitor_alerts').select(['typology_id', 'user_id']).execute();
    expect(alerts.length).toBeGreaterThan(0);
    expect(new Set(alerts.map((a) => `${a.typology_id}|${a.user_id}`)).size).toBe(alerts.length);
    // Features after the rebuild agree with the ground truth of the 10,000 events.
    const t = await openTestMonitor({ store: check });
    const end = KILL9_T0 + TOTAL * 1_000;
    for (const u of [0, 7, 49]) {
      const userId = `k-u${u}`;
      const truth = Array.from({ length: TOTAL }, (_, i) => kill9Event(i)).filter((e) => e.userId === userId);
      expect(await t.monitor.reader.value('userLogins1h', userId, KILL9_T0 + 3_600_000)).toBe(
        truth.filter((e) => e.type === 'login' && e.occurredAt <= KILL9_T0 + 3_600_000).length,
      );
      expect(await t.monitor.reader.value('userPurchases7d', userId, end)).toBe(
        truth.filter((e) => e.type === 'purchase').length,
      );
    }
    expect(t.monitor.eventCount).toBe(TOTAL);
    expect(KILL9_USERS).toBe(50);
    await t.close();
  });
});
