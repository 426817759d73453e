import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, sql } from '../../src/store/db.js';

describe('migrations', () => {
  it("open a database made before a module's newest migration, which sorts before others it already ran", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-migrate-')), 'db.sqlite');
    const made = await openStore({ sqlitePath: path });
    // As a database from before 101_line_actions_automated: every later-numbered migration ran, this one did not.
    await sql`drop index line_actions_automated_time`.execute(made.db);
    await sql`delete from kysely_migration where name = '101_line_actions_automated'`.execute(made.db);
    await made.close();

    const reopened = await openStore({ sqlitePath: path });
    const index = await sql<{ name: string }>`
      select name from sqlite_master where type = 'index' and name = 'line_actions_automated_time'`.execute(
      reopened.db,
    );
    expect(index.rows).toEqual([{ name: 'line_actions_automated_time' }]);
    await reopened.close();
  });
});
