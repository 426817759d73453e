import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema, openStore, sql } from '../../src/store/db.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';

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

  it.skipIf(!TEST_DATABASE_URL)(
    'an index an operator built concurrently before the upgrade is taken by 408, not refused (PostgreSQL)',
    async () => {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'migrate_prebuilt');
      const made = await openStore({ postgresUrl: url });
      try {
        // As a database from before 408: its old time index, neither of its new ones, 408 not run.
        await sql`drop index monitor_events_time_id`.execute(made.db);
        await sql`drop index monitor_events_user_line`.execute(made.db);
        await sql`create index monitor_events_time on monitor_events (occurred_at)`.execute(made.db);
        await sql`delete from kysely_migration where name = '408_monitor_rebuild_reads'`.execute(made.db);
        // The operator builds 408's indexes first, without holding the table's write lock.
        await sql`create index concurrently monitor_events_time_id on monitor_events (occurred_at, event_id)`.execute(
          made.db,
        );
        await sql`create index concurrently monitor_events_user_line
          on monitor_events (user_id, line_id, occurred_at, event_id, type) where line_id is not null`.execute(
          made.db,
        );
      } finally {
        await made.close();
      }
      const upgraded = await openStore({ postgresUrl: url });
      try {
        const indexes = await sql<{ indexname: string }>`select indexname from pg_indexes
          where schemaname = current_schema() and tablename = 'monitor_events' order by indexname`.execute(
          upgraded.db,
        );
        expect(indexes.rows.map((r) => r.indexname)).toEqual(
          expect.arrayContaining(['monitor_events_time_id', 'monitor_events_user_line']),
        );
        expect(indexes.rows.map((r) => r.indexname)).not.toContain('monitor_events_time');
      } finally {
        await upgraded.close();
      }
    },
  );
});
