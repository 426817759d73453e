import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/** Migrations of src/monitor; names in its range keep the global order stable. */
export const monitorMigrations: Record<string, Migration> = {
  // Numbered 142, out of the monitor's range, because it was the number free when it was written; it creates a table
  // of its own (it must: on an empty database it runs before 401 creates monitor_events).
  '142_monitor_event_feed': {
    // PostgreSQL only (several writers): the order in which stored events became visible, for the processes that
    // follow each other (MonitorIntakeStore.eventsCommittedSince). Each stored event gets a row carrying its
    // transaction's id; a follower reads by it up to its snapshot's xmin, below which every transaction has ended, so
    // it misses no event whatever its writer's clock said (received_at comes from the writer's clock, which the demo
    // seed sets weeks back) and however late its unit committed. `writer` names the intake that stored it: a process
    // does not read its own events back.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await sql`create table monitor_event_feed (
        xid xid8 not null default pg_current_xact_id(),
        event_id text not null,
        writer text not null
      )`.execute(db);
      await sql`create index monitor_event_feed_xid on monitor_event_feed (xid, event_id)`.execute(db);
    },
  },
  '401_monitor_events': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('monitor_events')
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text')
        .addColumn('loan_id', 'text')
        .addColumn('device_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('amount_minor', 'bigint')
        .addColumn('currency', 'text')
        .addColumn('payee_id', 'text')
        .addColumn('payee_created_at', 'bigint')
        .addColumn('merchant_id', 'text')
        .addColumn('merchant_category', 'text')
        .addColumn('channel', 'text')
        .addColumn('attributes', 'text')
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('monitor_events_user_time')
        .on('monitor_events')
        .columns(['user_id', 'occurred_at'])
        .execute();
      await db.schema.createIndex('monitor_events_time').on('monitor_events').column('occurred_at').execute();
    },
  },
  '402_monitor_alerts_actions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('monitor_alerts')
        .addColumn('alert_id', 'text', (c) => c.primaryKey())
        .addColumn('typology_id', 'text', (c) => c.notNull())
        .addColumn('typology_version', 'integer', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text')
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('monitor_alerts_status')
        .on('monitor_alerts')
        .columns(['status', 'alert_id'])
        .execute();
      await db.schema
        .createIndex('monitor_alerts_user')
        .on('monitor_alerts')
        .columns(['user_id', 'alert_id'])
        .execute();
      await db.schema
        .createIndex('monitor_alerts_typology')
        .on('monitor_alerts')
        .columns(['typology_id', 'alert_id'])
        .execute();
      await db.schema
        .createTable('monitor_actions')
        .addColumn('action_id', 'text', (c) => c.primaryKey())
        .addColumn('alert_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('monitor_actions_status')
        .on('monitor_actions')
        .columns(['status', 'action_id'])
        .execute();
      await db.schema.createIndex('monitor_actions_alert').on('monitor_actions').column('alert_id').execute();
    },
  },
  '403_monitor_lists': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('monitor_list_entries')
        .addColumn('entry_id', 'text', (c) => c.primaryKey())
        .addColumn('list_kind', 'text', (c) => c.notNull())
        .addColumn('entity_type', 'text', (c) => c.notNull())
        .addColumn('match_key', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('added_by', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('removed_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('monitor_list_entries_key')
        .on('monitor_list_entries')
        .columns(['entity_type', 'match_key'])
        .execute();
      await db.schema
        .createTable('monitor_sharing_keys')
        .addColumn('partner_id', 'text', (c) => c.primaryKey())
        .addColumn('key_sealed', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '404_monitor_follow': {
    // Each process follows what the others ingested and raised (MonitorService.follow): reads by arrival time.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('monitor_events_received')
        .on('monitor_events')
        .columns(['received_at', 'event_id'])
        .execute();
      await db.schema
        .createIndex('monitor_alerts_created')
        .on('monitor_alerts')
        .column('created_at')
        .execute();
    },
  },
  '405_monitor_alert_status_at': {
    // When an alert's status last changed: a process following the others learns an alert they closed (its dedupe
    // window must not absorb a new incident into a closed alert).
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('monitor_alerts').addColumn('status_at', 'bigint').execute();
      await db.schema
        .createIndex('monitor_alerts_status_at')
        .on('monitor_alerts')
        .column('status_at')
        .execute();
    },
  },
  '406_monitor_alert_changed_xid': {
    // PostgreSQL only (several writers): the transaction that last created or changed an alert, so the processes that
    // follow each other's alerts (AlertStore.alertsChangedSince) read them in commit order, up to their snapshot's
    // xmin, as they read events through monitor_event_feed (142): created_at and status_at come from the writer's
    // clock and are stamped before the unit commits, so a lagging clock or a late commit hid the change from a follower
    // that had read past that instant. A column, not a feed table: a follower needs only each alert's state now, so
    // the row carries its last change and there is nothing to prune. Added without a default first so existing rows
    // stay null (no rewrite; every process loads them at start); the default then stamps every insert.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await sql`alter table monitor_alerts add column changed_xid xid8`.execute(db);
      await sql`alter table monitor_alerts alter column changed_xid set default pg_current_xact_id()`.execute(
        db,
      );
      await sql`create index if not exists monitor_alerts_changed_xid on monitor_alerts (changed_xid, alert_id)`.execute(
        db,
      );
    },
  },
  '407_monitor_feed_followers': {
    // PostgreSQL only: the processes following monitor_event_feed, each with the transaction id it has read the feed
    // up to and when the database last heard from it, so the feed can be pruned behind the slowest live one
    // (pruneMonitorEventFeed, src/store/monitor.ts). `writer` is the intake's id in the feed.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await sql`create table monitor_feed_followers (
        writer text primary key,
        read_to xid8 not null,
        seen_at timestamptz not null default now()
      )`.execute(db);
    },
  },
  '408_monitor_rebuild_reads': {
    // The start-up rebuild reads only what retention keeps (EventIntake.rebuild): the events from an instant on, in
    // (occurred_at, event_id) order, a range of the first index (which also answers everything occurred_at alone did,
    // so it replaces monitor_events_time); and, of the older events, the last line mention per borrower and line, a
    // grouping the second answers without the table (every column the read needs is in it; only events with a line).
    // `if not exists`: on a large table an operator may build both first with CREATE INDEX CONCURRENTLY (README,
    // start-up), since this migration's build holds the table's write lock until every pending migration commits.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('monitor_events_time_id')
        .ifNotExists()
        .on('monitor_events')
        .columns(['occurred_at', 'event_id'])
        .execute();
      await db.schema.dropIndex('monitor_events_time').execute();
      await db.schema
        .createIndex('monitor_events_user_line')
        .ifNotExists()
        .on('monitor_events')
        .columns(['user_id', 'line_id', 'occurred_at', 'event_id', 'type'])
        .where(sql.ref('line_id'), 'is not', null)
        .execute();
    },
  },
};
