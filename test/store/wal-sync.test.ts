import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWalSyncer } from '../../src/store/wal-sync.js';

describe('WAL syncer', () => {
  it('flushes the file, and callers who arrive while a sync is in flight share the next one', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-wal-')), 'db-wal');
    writeFileSync(path, 'frames');
    const syncer = createWalSyncer(path);
    const first = syncer.sync();
    const second = syncer.sync();
    const third = syncer.sync();
    // The later two started after the first was in flight, so they wait for one more sync, not for the first.
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    await expect(Promise.all([first, second, third])).resolves.toEqual([undefined, undefined, undefined]);
    await expect(syncer.sync()).resolves.toBeUndefined();
  });

  it('fails the waiters when the file cannot be flushed, so nobody is told a commit is durable', async () => {
    const syncer = createWalSyncer(join(tmpdir(), 'lg-wal-missing', 'nothing-wal'));
    await expect(syncer.sync()).rejects.toThrow(/ENOENT/);
  });
});
