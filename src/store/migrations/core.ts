import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';
import { UNIT_REFUSED_SQLSTATE } from '../faults.js';

/** Migrations of src/core; names in its range keep the global order stable. */
export const coreMigrations: Record<string, Migration> = {
  '100_core': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('borrowers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('national_id_hash', 'text', (c) => c.notNull().unique())
        .addColumn('national_id_enc', 'text', (c) => c.notNull())
        .addColumn('name_enc', 'text', (c) => c.notNull())
        .addColumn('phone_enc', 'text', (c) => c.notNull())
        .addColumn('birth_date_enc', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('applications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('decision_id', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text')
        .addColumn('limit_minor', 'bigint')
        .addColumn('annual_rate', 'double precision')
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('applications_borrower').on('applications').column('borrower_id').execute();
      await db.schema
        .createTable('credit_lines')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('limit_minor', 'bigint', (c) => c.notNull())
        .addColumn('base_limit_minor', 'bigint', (c) => c.notNull())
        .addColumn('temp_limit_until', 'bigint')
        .addColumn('outstanding_minor', 'bigint', (c) => c.notNull())
        // The store itself refuses a negative available balance: the last line of defence behind the conditional update.
        .addColumn('available_minor', 'bigint', (c) => c.notNull().check(sql`available_minor >= 0`))
        .addColumn('annual_rate', 'double precision', (c) => c.notNull())
        .addColumn('dpd', 'integer', (c) => c.notNull())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('credit_lines_borrower').on('credit_lines').column('borrower_id').execute();
      await db.schema.createIndex('credit_lines_status').on('credit_lines').column('status').execute();
      await db.schema
        .createTable('line_actions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('trace_id', 'text')
        .addColumn('automated', 'integer', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('appealable', 'integer', (c) => c.notNull())
        .addColumn('notice_at', 'bigint')
        .addColumn('prev_status', 'text', (c) => c.notNull())
        .addColumn('new_status', 'text', (c) => c.notNull())
        .addColumn('prev_limit_minor', 'bigint', (c) => c.notNull())
        .addColumn('new_limit_minor', 'bigint', (c) => c.notNull())
        .addColumn('prev_rate', 'double precision', (c) => c.notNull())
        .addColumn('new_rate', 'double precision', (c) => c.notNull())
        .addColumn('requested_limit_minor', 'bigint')
        .addColumn('note', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('line_actions_line')
        .on('line_actions')
        .columns(['line_id', 'created_at'])
        .execute();
      await db.schema
        .createTable('draws')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('decision_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('amount_minor', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('term_months', 'integer', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text')
        .addColumn('device_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('payee_id', 'text')
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('loan_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('draws_line').on('draws').columns(['line_id', 'created_at']).execute();
      await db.schema
        .createTable('loans')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('draw_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('principal_minor', 'bigint', (c) => c.notNull())
        .addColumn('outstanding_principal_minor', 'bigint', (c) =>
          c.notNull().check(sql`outstanding_principal_minor >= 0`),
        )
        .addColumn('annual_rate', 'double precision', (c) => c.notNull())
        .addColumn('term_months', 'integer', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('start_date', 'text', (c) => c.notNull())
        .addColumn('upfront_fee_minor', 'bigint', (c) => c.notNull())
        .addColumn('periodic_fee_minor', 'bigint', (c) => c.notNull())
        .addColumn('apr_us_regz', 'double precision', (c) => c.notNull())
        .addColumn('apr_eu_ccd', 'double precision', (c) => c.notNull())
        .addColumn('apr_cn_irr', 'double precision', (c) => c.notNull())
        .addColumn('total_interest_minor', 'bigint', (c) => c.notNull())
        .addColumn('total_fees_minor', 'bigint', (c) => c.notNull())
        .addColumn('total_repayable_minor', 'bigint', (c) => c.notNull())
        .addColumn('dpd', 'integer', (c) => c.notNull())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('settled_at', 'bigint')
        .execute();
      await db.schema.createIndex('loans_line').on('loans').column('line_id').execute();
      await db.schema.createIndex('loans_status').on('loans').column('status').execute();
      await db.schema
        .createTable('loan_installments')
        .addColumn('loan_id', 'text', (c) => c.notNull())
        .addColumn('period', 'integer', (c) => c.notNull())
        .addColumn('due_date', 'text', (c) => c.notNull())
        .addColumn('principal_minor', 'bigint', (c) => c.notNull())
        .addColumn('interest_minor', 'bigint', (c) => c.notNull())
        .addColumn('fee_minor', 'bigint', (c) => c.notNull())
        .addColumn('paid_principal_minor', 'bigint', (c) => c.notNull())
        .addColumn('paid_interest_minor', 'bigint', (c) => c.notNull())
        .addColumn('paid_fee_minor', 'bigint', (c) => c.notNull())
        .addColumn('settled_at', 'bigint')
        .addPrimaryKeyConstraint('loan_installments_pk', ['loan_id', 'period'])
        .execute();
      await db.schema
        .createIndex('loan_installments_due')
        .on('loan_installments')
        .columns(['settled_at', 'due_date'])
        .execute();
      await db.schema
        .createTable('repayments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('loan_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('amount_minor', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('paid_at', 'bigint', (c) => c.notNull())
        .addColumn('fee_minor', 'bigint', (c) => c.notNull())
        .addColumn('interest_minor', 'bigint', (c) => c.notNull())
        .addColumn('principal_minor', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('repayments_loan').on('repayments').column('loan_id').execute();
      await db.schema
        .createTable('delinquency_changes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('loan_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('as_of', 'text', (c) => c.notNull())
        .addColumn('dpd', 'integer', (c) => c.notNull())
        .addColumn('prev_bucket', 'text', (c) => c.notNull())
        .addColumn('new_bucket', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('delinquency_changes_loan')
        .on('delinquency_changes')
        .column('loan_id')
        .execute();
    },
  },
  '101_line_actions_automated': {
    // The blast-radius guard counts the automated restrictions every instance committed in its window.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('line_actions_automated_time')
        .on('line_actions')
        .columns(['automated', 'created_at'])
        .execute();
    },
  },
  '110_line_actions_class': {
    // Issue 12: the blast-radius guard keeps one budget per action class, counted across the fleet per class.
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('line_actions')
        .addColumn('action_class', 'text', (c) => c.notNull().defaultTo('credit'))
        .execute();
      await db.schema
        .createIndex('line_actions_class_time')
        .on('line_actions')
        .columns(['automated', 'action_class', 'created_at'])
        .execute();
    },
  },
  '120_lending_products': {
    // Issue 15: a versioned product catalogue; lines pin a product version, loans snapshot their terms and accrue daily.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('products')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('terms', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('products_pk', ['id', 'version'])
        .execute();
      for (const column of ['product_id', 'product_terms'] as const) {
        await db.schema.alterTable('credit_lines').addColumn(column, 'text').execute();
      }
      await db.schema.alterTable('credit_lines').addColumn('product_version', 'integer').execute();
      for (const column of [
        'product_id',
        'terms',
        'interest_through',
        'penalty_through',
        'purpose',
        'quote_id',
      ]) {
        await db.schema.alterTable('loans').addColumn(column, 'text').execute();
      }
      await db.schema.alterTable('loans').addColumn('product_version', 'integer').execute();
      for (const column of ['interest_unpaid_minor', 'penalty_unpaid_minor']) {
        await db.schema
          .alterTable('loans')
          .addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
      }
      await db.schema
        .alterTable('loan_installments')
        .addColumn('late_fee_minor', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('repayments')
        .addColumn('penalty_minor', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '121_lending_quotes': {
    // Quotes before the draw (PBoC [2021] No. 3: the annualised rate is shown before the borrower commits).
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('quotes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('amount_minor', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('term_months', 'integer', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text')
        .addColumn('annual_rate', 'double precision', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('quotes_line').on('quotes').column('line_id').execute();
    },
  },
  '122_lending_partners': {
    // 助贷 and co-lending (金规〔2025〕9号): partners, partner-scoped keys, lines' funding mode and channel.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('partners')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('licence_no', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('list_status', 'text', (c) => c.notNull())
        .addColumn('contract_start', 'text', (c) => c.notNull())
        .addColumn('contract_end', 'text', (c) => c.notNull())
        .addColumn('fee_rate_bps', 'integer', (c) => c.notNull())
        .addColumn('concentration_max', 'double precision', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('partner_api_keys')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('partner_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      for (const column of ['channel_partner_id', 'funding_mode', 'funders']) {
        await db.schema.alterTable('credit_lines').addColumn(column, 'text').execute();
      }
      await db.schema.alterTable('applications').addColumn('channel_partner_id', 'text').execute();
      await db.schema
        .createIndex('credit_lines_channel')
        .on('credit_lines')
        .column('channel_partner_id')
        .execute();
      await db.schema
        .createIndex('applications_channel')
        .on('applications')
        .column('channel_partner_id')
        .execute();
    },
  },
  '123_lending_line_enhancer': {
    // The borrower's view names every party that charges them, the credit enhancer (增信) included.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('credit_lines').addColumn('credit_enhancer_id', 'text').execute();
    },
  },
  '124_lending_channel_alerts': {
    // A channel that degrades past its thresholds raises an alert once per day (a case once cases exist).
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('partner_quality_alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('partner_id', 'text', (c) => c.notNull())
        .addColumn('as_of', 'text', (c) => c.notNull())
        .addColumn('breaches', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('partner_quality_alerts_day', ['partner_id', 'as_of'])
        .execute();
    },
  },
  '125_lending_line_partner_fees': {
    // The platform's and the credit enhancer's fees are priced into every draw's APR: the line keeps the fees it was
    // granted with, so a partner changing its fee never changes what a borrower was told.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('credit_lines').addColumn('partner_fees', 'text').execute();
    },
  },
  '126_lending_book_outstanding': {
    // The partner-concentration check (core/partners.ts) needs the whole book's outstanding and one channel's; summing
    // credit_lines for it cost every such draw a scan of the book. book_outstanding keeps those sums, per channel
    // (partner_id, '' for lines without one), maintained by triggers on credit_lines in the same statement as every
    // change of a line's outstanding or channel, so they are exact in every transaction whoever writes the lines.
    // PostgreSQL spreads each channel over 128 rows by line (slot = hashtext(line id) & 127), so draws on
    // different lines of one channel seldom wait for each other's row lock; SQLite (one writer) keeps slot 0.
    async up(db: Kysely<unknown>) {
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      await db.schema
        .createTable('book_outstanding')
        .addColumn('partner_id', 'text', (c) => c.notNull())
        .addColumn('slot', 'integer', (c) => c.notNull())
        .addColumn('outstanding_minor', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('book_outstanding_pk', ['partner_id', 'slot'])
        .execute();
      if (postgres) {
        await sql`insert into book_outstanding (partner_id, slot, outstanding_minor)
          select coalesce(channel_partner_id, ''), hashtext(id) & 127, sum(outstanding_minor)
          from credit_lines group by 1, 2`.execute(db);
        await sql`create function book_outstanding_track() returns trigger language plpgsql as $$
          begin
            if tg_op = 'UPDATE' and old.channel_partner_id is not distinct from new.channel_partner_id then
              insert into book_outstanding (partner_id, slot, outstanding_minor) values
                (coalesce(new.channel_partner_id, ''), hashtext(new.id) & 127, new.outstanding_minor - old.outstanding_minor)
                on conflict (partner_id, slot) do update
                set outstanding_minor = book_outstanding.outstanding_minor + excluded.outstanding_minor;
              return null;
            end if;
            if tg_op in ('UPDATE', 'DELETE') then
              insert into book_outstanding (partner_id, slot, outstanding_minor) values
                (coalesce(old.channel_partner_id, ''), hashtext(old.id) & 127, -old.outstanding_minor)
                on conflict (partner_id, slot) do update
                set outstanding_minor = book_outstanding.outstanding_minor + excluded.outstanding_minor;
            end if;
            if tg_op in ('UPDATE', 'INSERT') then
              insert into book_outstanding (partner_id, slot, outstanding_minor) values
                (coalesce(new.channel_partner_id, ''), hashtext(new.id) & 127, new.outstanding_minor)
                on conflict (partner_id, slot) do update
                set outstanding_minor = book_outstanding.outstanding_minor + excluded.outstanding_minor;
            end if;
            return null;
          end $$`.execute(db);
        await sql`create trigger book_outstanding_rows after insert or delete on credit_lines
          for each row execute function book_outstanding_track()`.execute(db);
        await sql`create trigger book_outstanding_changes after update of outstanding_minor, channel_partner_id
          on credit_lines for each row
          when (old.outstanding_minor is distinct from new.outstanding_minor
            or old.channel_partner_id is distinct from new.channel_partner_id)
          execute function book_outstanding_track()`.execute(db);
        return;
      }
      await sql`insert into book_outstanding (partner_id, slot, outstanding_minor)
        select coalesce(channel_partner_id, ''), 0, sum(outstanding_minor) from credit_lines group by 1`.execute(
        db,
      );
      const add = (partner: string, amount: string) =>
        `insert into book_outstanding (partner_id, slot, outstanding_minor) values (coalesce(${partner}, ''), 0, ${amount})
          on conflict (partner_id, slot) do update set outstanding_minor = outstanding_minor + excluded.outstanding_minor;`;
      await sql
        .raw(
          `create trigger book_outstanding_insert after insert on credit_lines begin
            ${add('new.channel_partner_id', 'new.outstanding_minor')}
          end`,
        )
        .execute(db);
      await sql
        .raw(
          `create trigger book_outstanding_delete after delete on credit_lines begin
            ${add('old.channel_partner_id', '-old.outstanding_minor')}
          end`,
        )
        .execute(db);
      await sql
        .raw(
          `create trigger book_outstanding_update after update of outstanding_minor on credit_lines
          when old.outstanding_minor <> new.outstanding_minor and old.channel_partner_id is new.channel_partner_id
          begin
            ${add('new.channel_partner_id', 'new.outstanding_minor - old.outstanding_minor')}
          end`,
        )
        .execute(db);
      await sql
        .raw(
          `create trigger book_outstanding_move after update of channel_partner_id on credit_lines
          when old.channel_partner_id is not new.channel_partner_id
          begin
            ${add('old.channel_partner_id', '-old.outstanding_minor')}
            ${add('new.channel_partner_id', 'new.outstanding_minor')}
          end`,
        )
        .execute(db);
    },
  },
  '127_unit_refused': {
    // A draw's unit statement is sent with its COMMIT behind it (core-draws.ts, prepared.ts). It must then fail by itself
    // when its conditional debit or its idempotency claim did not take, rather than answer counts the caller would
    // refuse on after the COMMIT went through: it calls this, which raises UNIT_REFUSED_SQLSTATE.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await sql
        .raw(
          `create function lineguard_unit_refused(what text) returns integer language plpgsql volatile as $$
          begin
            raise exception 'unit refused: %', what using errcode = '${UNIT_REFUSED_SQLSTATE}';
          end $$`,
        )
        .execute(db);
    },
    async down(db: Kysely<unknown>) {
      if (db.getExecutor().adapter instanceof PostgresAdapter)
        await sql`drop function if exists lineguard_unit_refused(text)`.execute(db);
    },
  },
  '128_book_outstanding_truncate': {
    // TRUNCATE fires no row triggers, so migration 126's sums outlived the lines a TRUNCATE removed (an operator
    // clearing a test or restored database) and the concentration check went on counting a book that was gone. A
    // statement trigger empties them with the lines. SQLite has no TRUNCATE (its DELETE fires the row triggers).
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await sql`create function book_outstanding_clear() returns trigger language plpgsql as $$
          begin
            delete from book_outstanding;
            return null;
          end $$`.execute(db);
      await sql`create trigger book_outstanding_truncate after truncate on credit_lines
          for each statement execute function book_outstanding_clear()`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await sql`drop trigger if exists book_outstanding_truncate on credit_lines`.execute(db);
      await sql`drop function if exists book_outstanding_clear()`.execute(db);
    },
  },
  '129_draw_quote': {
    // The quote a draw cited. A held draw (cooling-off, review) is booked later, at its release: without the quote on
    // the row the release booked the line's terms as they then were, which the borrower may never have been quoted.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('draws').addColumn('quote_id', 'text').execute();
    },
  },
  '130_application_channel': {
    // A referred application's line is opened at its approval, through the channel it came by: the application keeps
    // the funding it asked for (mode, funders, credit enhancer) besides its channel partner, or an approval on review
    // opened a line with no funders and no guarantor. Rows from before keep only channel_partner_id: their approval
    // binds the line to that channel, self-funded (core/partners.ts storedChannel).
    async up(db: Kysely<unknown>) {
      for (const column of ['funding_mode', 'funders', 'credit_enhancer_id'])
        await db.schema.alterTable('applications').addColumn(column, 'text').execute();
    },
  },
  '131_application_product': {
    // A referred application's line is granted at its approval under the product it asked for (its rate range, APR
    // cap and terms pinned on the line), as an immediate approval's is. Rows from before have none: their approval
    // grants a line under no product, as it did.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('applications').addColumn('product_id', 'text').execute();
    },
  },
  '132_loans_line_created': {
    // A draw's velocity (drawsLast24h, minutesSinceLastDraw) is read from the line's loans, which are created when the
    // money leaves: a held draw released a day after it was asked for counts from its release (store/core-draws.ts).
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('loans_line_created')
        .on('loans')
        .columns(['line_id', 'created_at'])
        .execute();
    },
  },
  '133_line_available_when_lending': {
    // Available credit is what a draw could take now (domain/line.ts availableMinor): 0 on a line that does not lend.
    // Lines frozen, suspended, closed or revoked before kept the limit's room in available_minor (and a repayment on
    // them added to it); they show 0 from here on, and get the room back if they lend again (UNFREEZE, REINSTATE).
    async up(db: Kysely<unknown>) {
      await sql`update credit_lines set available_minor = 0 where status <> 'ACTIVE'`.execute(db);
    },
  },
  '134_loans_aged_for': {
    // The day the daily job last aged each loan for: a run for an earlier day (a backfill, a re-run, a slip of the
    // date) leaves the loan as the later day aged it instead of turning arrears back to current (core/jobs.ts).
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('loans').addColumn('aged_for', 'text').execute();
    },
  },
  '138_draw_origin_sealed': {
    // A draw's device, IP address and payee account are personal data (PIPL Art. 51): a draw seals the three as one
    // value in `origin` (compliance/sealed-draws.ts) and leaves device_id, ip and payee_id null. Rows from before keep
    // them in clear and are read as they are; `lineguard keys rotate-data` seals them (a migration holds no data key).
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('draws').addColumn('origin', 'text').execute();
    },
  },
  '139_intake_changed_xid': {
    // PostgreSQL only (several writers): the transaction that last made each row work for a person, so case intake's
    // sweep (src/cases/intake.ts, src/store/cases-intake.ts) reads what committed in commit order (by snapshot:
    // src/store/commit-order.ts), as the monitor follows events (142) and alerts (406): created_at is the writer's
    // clock, stamped before its unit commits, so a lagging clock or a late commit left the row behind a sweep that had
    // read past that instant, and no case was ever opened. Added without a default first so existing rows stay null
    // (no rewrite; the first sweep after a start reads them by time); the default then stamps every insert, whatever
    // path writes it. A draw is restamped when its status changes (store/core-held-draws.ts moveDraw): the
    // cooling-off job turns it HOLD a day after it was made. The indexes are partial: only the rows the sweep looks
    // for, so the draws' hot path (APPROVED) never writes to them, and a sweep walks only what changed since its last
    // one; `if not exists`, so an operator may build them first with CREATE INDEX CONCURRENTLY (README, start-up).
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      for (const table of ['applications', 'draws', 'line_actions']) {
        await sql.raw(`alter table ${table} add column changed_xid xid8`).execute(db);
        await sql
          .raw(`alter table ${table} alter column changed_xid set default pg_current_xact_id()`)
          .execute(db);
      }
      await sql`create index if not exists applications_review_changed on applications (changed_xid, id)
        where outcome = 'REVIEW' and line_id is null`.execute(db);
      await sql`create index if not exists draws_held_changed on draws (changed_xid, id)
        where status in ('HOLD', 'REVIEW', 'CHALLENGE')`.execute(db);
      await sql`create index if not exists line_actions_review_changed on line_actions (changed_xid, id)
        where outcome = 'REVIEW'`.execute(db);
      // A CHALLENGE draw becomes a person's work by time alone (no step-up result within the window): read by time.
      await sql`create index if not exists draws_challenge_created on draws (created_at) where status = 'CHALLENGE'`.execute(
        db,
      );
    },
  },
};
