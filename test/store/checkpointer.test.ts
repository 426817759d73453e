import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';

describe('WAL checkpointer thread', () => {
  it('copies committed frames into the database file without the writer checkpointing', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-ckpt-')), 'db.sqlite');
    const store = await openStore({ sqlitePath: path });
    const sync = store.sync;
    if (!sync) throw new Error('an embedded store offers synchronous units');
    const before = statSync(path).size;
    // About 2 MB of rows: below SQLite's default auto-checkpoint (4 MB of WAL) and far below the writer's (64 MB).
    const payload = 'x'.repeat(4_000);
    for (let batch = 0; batch < 5; batch++) {
      await sync.transaction((sql) => {
        for (let i = 0; i < 100; i++) {
          sql.insert('outbox', [
            { id: `o${batch}-${i}`, topic: 't', payload, created_at: i, published_at: null },
          ]);
        }
      });
    }
    // Only a checkpoint grows the main file; the checkpointer runs every 100 ms.
    await expect
      .poll(() => statSync(path).size, { timeout: 5_000, interval: 50 })
      .toBeGreaterThan(before + 1_500_000);
    await store.close();
    const reopened = await openStore({ sqlitePath: path });
    const rows = await reopened.db.selectFrom('outbox').select('id').execute();
    expect(rows).toHaveLength(500);
    await reopened.close();
  });
});
