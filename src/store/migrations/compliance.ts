import type { Kysely, Migration } from 'kysely';

/** src/compliance's tables: names 6xx. */
export const complianceMigrations: Record<string, Migration> = {
  '601_ledger_checkpoints': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ledger_checkpoints')
        .addColumn('tree_size', 'bigint', (c) => c.primaryKey())
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '602_consents_bureau': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('consents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_hash', 'text', (c) => c.notNull())
        .addColumn('borrower_id', 'text')
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('text_version', 'text', (c) => c.notNull())
        .addColumn('text_sha256', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('withdrawn_at', 'bigint')
        .addColumn('withdrawn_reason', 'text')
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('consents_subject')
        .on('consents')
        .columns(['subject_hash', 'purpose'])
        .execute();
      await db.schema
        .createTable('bureau_inquiries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_hash', 'text', (c) => c.notNull())
        .addColumn('borrower_id', 'text')
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('refusal_code', 'text')
        .addColumn('consent_id', 'text')
        .addColumn('bureau', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('report_found', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('bureau_inquiries_subject')
        .on('bureau_inquiries')
        .columns(['subject_hash', 'created_at'])
        .execute();
      await db.schema
        .createTable('sandbox_bureau_reports')
        .addColumn('subject_hash', 'text', (c) => c.primaryKey())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '603_portfolio': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('portfolio_snapshots')
        .addColumn('as_of', 'text', (c) => c.primaryKey())
        .addColumn('metrics', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('portfolio_baselines')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('baseline', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('early_warnings')
        .addColumn('as_of', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('threshold', 'double precision', (c) => c.notNull())
        .addColumn('alert_id', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('early_warnings_pk', ['as_of', 'rule_id'])
        .execute();
    },
  },
  '650_bureau_duties': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('delinquency_notices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('loan_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text', (c) => c.notNull())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('dpd', 'integer', (c) => c.notNull())
        .addColumn('text_zh', 'text', (c) => c.notNull())
        .addColumn('text_en', 'text', (c) => c.notNull())
        .addColumn('notified_at', 'bigint', (c) => c.notNull())
        .addColumn('report_after', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('submission_id', 'text')
        .addColumn('reported_at', 'bigint')
        .addColumn('active_loan_id', 'text', (c) => c.unique())
        .execute();
      await db.schema
        .createIndex('delinquency_notices_loan')
        .on('delinquency_notices')
        .columns(['loan_id', 'status'])
        .execute();
      await db.schema
        .createIndex('delinquency_notices_borrower')
        .on('delinquency_notices')
        .columns(['borrower_id', 'notified_at'])
        .execute();
      await db.schema
        .createTable('bureau_submissions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject_hash', 'text', (c) => c.notNull())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('bureau', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('bureau_submissions_status')
        .on('bureau_submissions')
        .columns(['status', 'created_at'])
        .execute();
      await db.schema
        .createTable('sandbox_bureau_submissions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_hash', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('credit_disputes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('target_kind', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('claim', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('raised_by', 'text', (c) => c.notNull())
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('outcome_zh', 'text')
        .addColumn('outcome_en', 'text')
        .addColumn('correction_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('resolved_at', 'bigint')
        .addColumn('open_key', 'text', (c) => c.unique())
        .execute();
      await db.schema
        .createIndex('credit_disputes_borrower')
        .on('credit_disputes')
        .columns(['borrower_id', 'created_at'])
        .execute();
    },
  },
};
