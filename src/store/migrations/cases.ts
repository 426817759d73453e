import type { Kysely, Migration } from 'kysely';

/** src/cases: users, borrower tokens, cases and notes, appeals, complaints, pending changes (5xx). */
export const casesMigrations: Record<string, Migration> = {
  '501_cases': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('api_keys').addColumn('user_id', 'text').execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('disabled_at', 'bigint')
        .execute();
      await db.schema
        .createTable('borrower_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('cases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text')
        .addColumn('borrower_id', 'text')
        .addColumn('typology_id', 'text')
        .addColumn('rule_ids', 'text', (c) => c.notNull())
        .addColumn('assignee', 'text')
        .addColumn('sla_due_at', 'bigint', (c) => c.notNull())
        .addColumn('escalated_at', 'bigint')
        .addColumn('sla_breached', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('resolved_at', 'bigint')
        .addColumn('resolved_by', 'text')
        .addColumn('outcome', 'text')
        .addColumn('outcome_detail', 'text')
        .addUniqueConstraint('cases_type_subject', ['type', 'subject_id'])
        .execute();
      await db.schema.createIndex('cases_state_due').on('cases').columns(['state', 'sla_due_at']).execute();
      await db.schema.createIndex('cases_assignee').on('cases').columns(['assignee', 'state']).execute();
      await db.schema.createIndex('cases_line').on('cases').column('line_id').execute();
      await db.schema
        .createTable('case_notes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('case_notes_case').on('case_notes').column('case_id').execute();
      await db.schema
        .createTable('appeals')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('line_id', 'text')
        .addColumn('target_kind', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('documents', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('deadline_at', 'bigint', (c) => c.notNull())
        .addColumn('outcome_zh', 'text')
        .addColumn('outcome_en', 'text')
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('resolved_at', 'bigint')
        .execute();
      await db.schema.createIndex('appeals_borrower').on('appeals').columns(['borrower_id', 'id']).execute();
      await db.schema.createIndex('appeals_line').on('appeals').columns(['line_id', 'state']).execute();
      await db.schema
        .createTable('complaints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('borrower_id', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('extended_at', 'bigint')
        .addColumn('extension_reason', 'text')
        .addColumn('resolution_zh', 'text')
        .addColumn('resolution_en', 'text')
        .addColumn('case_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('resolved_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('complaints_borrower')
        .on('complaints')
        .columns(['borrower_id', 'id'])
        .execute();
      await db.schema
        .createTable('pending_changes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('diff', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('maker', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('checker', 'text')
        .addColumn('decided_at', 'bigint')
        .addColumn('decision_note', 'text')
        .addColumn('result', 'text')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('pending_changes_state')
        .on('pending_changes')
        .columns(['state', 'id'])
        .execute();
    },
  },
  '502_four_eyes_key_issuer': {
    // Whoever was shown a key's secret could have acted with it: an admin who issues a supervisor's key could approve
    // their own change with it. A key records who issued it (null: a bootstrap key, or one made before this migration,
    // which counts as its holder's own), and a pending change the key its maker proposed with (null: the CLI, or a
    // change proposed before this migration), so a checker is refused when the two sides share a person.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('api_keys').addColumn('issued_by', 'text').execute();
      await db.schema.alterTable('pending_changes').addColumn('maker_key_id', 'text').execute();
    },
  },
  '503_four_eyes_checker_key': {
    // The key the checker approved, rejected or failed a change with (null: the CLI, or decided before this
    // migration), beside maker_key_id: with the issuers the ledger entry records, the decision can be re-checked.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('pending_changes').addColumn('checker_key_id', 'text').execute();
    },
  },
  '504_api_key_issued_with': {
    // A key a user issues themselves (POST /v1/session/keys) is made with a key they already hold, and whoever was
    // shown that key's secret could have made this one: four eyes follows the chain back to the issuers of the keys
    // it was made with. null: a key issued by someone else (its issuer says who saw it), or made before this migration.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('api_keys').addColumn('issued_with_key_id', 'text').execute();
    },
  },
};
