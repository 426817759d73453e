import type { Kysely } from 'kysely';
import {
  BUREAU_SUBMISSION,
  DISPUTE_OUTCOME,
  DISPUTE_STATEMENT,
  appendToLedger,
  type BookInstant,
  type ComplianceStore,
  type ComplianceTx,
  type CreditDisputeRecord,
  type SubjectRekey,
  type VolumeRow,
} from '../compliance/index.js';
import type { Database } from './schema.js';
import type { DbTx, Store } from './db.js';
import { sealedPairRows } from './sealed-pairs.js';

/** SQL for src/compliance (its ports in src/compliance/ports.ts): consents, inquiries, the bureau, portfolio. */
type Q = Kysely<Database>;

function complianceTx(tx: DbTx, kind: Store['kind']): ComplianceTx {
  return {
    appendLedger: (entries) => appendToLedger(tx, [...entries]),
    ...consentTx(tx),
    ...inquiryTx(tx),
    ...portfolioTx(tx),
    ...bureauReportingTx(tx),
    ...disputeTx(tx, kind),
  };
}

/** Consent records inside a unit: the subject hash, read, insert, withdraw, lock. */
function consentTx(
  tx: DbTx,
): Pick<
  ComplianceTx,
  'nationalIdHashOf' | 'consentsOf' | 'insertConsent' | 'withdrawConsent' | 'consentExists' | 'lockConsent'
> {
  return {
    nationalIdHashOf: (borrowerId) => nationalIdHashOf(tx, borrowerId),
    consentsOf: (hashes) => consentsOf(tx, hashes),
    async insertConsent(row) {
      await tx.insertInto('consents').values(row).execute();
    },
    withdrawConsent: (id, at, reason) =>
      tx
        .updateTable('consents')
        .set({ withdrawn_at: at, withdrawn_reason: reason })
        .where('id', '=', id)
        .where('withdrawn_at', 'is', null)
        .returningAll()
        .executeTakeFirst(),
    async consentExists(id) {
      return Boolean(await tx.selectFrom('consents').select('id').where('id', '=', id).executeTakeFirst());
    },
    async lockConsent(id) {
      // A no-op update takes the row lock on PostgreSQL (SQLite serialises writers anyway).
      await tx.updateTable('consents').set({ id }).where('id', '=', id).execute();
    },
  };
}

/** Credit-report inquiries inside a unit: the hard-pull count, the inquiry row, and re-keying (with consents). */
function inquiryTx(tx: DbTx): Pick<ComplianceTx, 'hardPullsSince' | 'insertInquiry' | 'rekeySubjects'> {
  return {
    async hardPullsSince(hashes, since) {
      const row = await tx
        .selectFrom('bureau_inquiries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subject_hash', 'in', [...hashes])
        .where('kind', '=', 'hard')
        .where('status', '=', 'PULLED')
        .where('created_at', '>', since)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async insertInquiry(row) {
      await tx.insertInto('bureau_inquiries').values(row).execute();
    },
    rekeySubjects: (moves) => rekeySubjects(tx, moves),
  };
}

/** Each move's consents and inquiries from its former hashes to its current one (SubjectRekey). */
async function rekeySubjects(tx: DbTx, moves: readonly SubjectRekey[]) {
  const moved = { borrowerIds: [] as string[], consents: 0, inquiries: 0 };
  for (const move of moves) {
    if (move.former.length === 0) continue;
    const consents = await tx
      .updateTable('consents')
      .set({ subject_hash: move.current })
      .where('subject_hash', 'in', [...move.former])
      .executeTakeFirst();
    const inquiries = await tx
      .updateTable('bureau_inquiries')
      .set({ subject_hash: move.current })
      .where('subject_hash', 'in', [...move.former])
      .executeTakeFirst();
    const consentRows = Number(consents.numUpdatedRows);
    const inquiryRows = Number(inquiries.numUpdatedRows);
    if (consentRows + inquiryRows > 0) moved.borrowerIds.push(move.borrowerId);
    moved.consents += consentRows;
    moved.inquiries += inquiryRows;
  }
  return moved;
}

/** Portfolio snapshots, baselines and early warnings inside a unit. */
function portfolioTx(
  tx: DbTx,
): Pick<ComplianceTx, 'upsertSnapshot' | 'insertBaselineIfAbsent' | 'warningRuleIds' | 'insertWarning'> {
  return {
    async upsertSnapshot(asOf, metrics, at) {
      await tx
        .insertInto('portfolio_snapshots')
        .values({ as_of: asOf, metrics, created_at: at })
        .onConflict((oc) => oc.column('as_of').doUpdateSet({ metrics, created_at: at }))
        .execute();
    },
    async insertBaselineIfAbsent(name, baseline, at) {
      await tx
        .insertInto('portfolio_baselines')
        .values({ name, baseline, created_at: at })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    },
    async warningRuleIds(asOf) {
      const rows = await tx
        .selectFrom('early_warnings')
        .select('rule_id')
        .where('as_of', '=', asOf)
        .execute();
      return rows.map((r) => r.rule_id);
    },
    async insertWarning(w) {
      await tx
        .insertInto('early_warnings')
        .values({
          as_of: w.asOf,
          rule_id: w.ruleId,
          value: w.value,
          threshold: w.threshold,
          alert_id: null,
          detail: w.detail,
          created_at: w.at,
        })
        .execute();
    },
  };
}

/** Delinquency notices and bureau submissions inside a unit. */
function bureauReportingTx(
  tx: DbTx,
): Pick<ComplianceTx, 'insertNotice' | 'settleNotice' | 'insertSubmission' | 'markSubmissionSent'> {
  return {
    async insertNotice(row) {
      const result = await tx
        .insertInto('delinquency_notices')
        .values(row)
        .onConflict((oc) => oc.column('active_loan_id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async settleNotice(id, patch) {
      const result = await tx
        .updateTable('delinquency_notices')
        .set(patch)
        .where('id', '=', id)
        .where('status', '=', 'NOTIFIED')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async insertSubmission(row) {
      await tx.insertInto('bureau_submissions').values(row).execute();
    },
    async markSubmissionSent(id, at) {
      const result = await tx
        .updateTable('bureau_submissions')
        .set({ status: 'SENT', sent_at: at })
        .where('id', '=', id)
        .where('status', '=', 'PENDING')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

/** Credit-report disputes inside a unit (a dispute read for settling is locked on PostgreSQL). */
function disputeTx(
  tx: DbTx,
  kind: Store['kind'],
): Pick<ComplianceTx, 'insertDispute' | 'openDisputeOn' | 'findDispute' | 'settleDispute'> {
  return {
    async insertDispute(row) {
      const result = await tx
        .insertInto('credit_disputes')
        .values(row)
        .onConflict((oc) => oc.column('open_key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async openDisputeOn(targetKind, targetId, borrowerId) {
      const row = await tx
        .selectFrom('credit_disputes')
        .select('id')
        .where('target_kind', '=', targetKind)
        .where('target_id', '=', targetId)
        .where('borrower_id', '=', borrowerId)
        .where('state', '=', 'OPEN')
        .executeTakeFirst();
      return row?.id;
    },
    async findDispute(id) {
      const query = tx.selectFrom('credit_disputes').selectAll().where('id', '=', id);
      return (kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
    },
    async settleDispute(id, patch) {
      const result = await tx
        .updateTable('credit_disputes')
        .set(patch)
        .where('id', '=', id)
        .where('state', '=', 'OPEN')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

async function nationalIdHashOf(db: Q, borrowerId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('borrowers')
    .select('national_id_hash')
    .where('id', '=', borrowerId)
    .executeTakeFirst();
  return row?.national_id_hash;
}

function consentsOf(db: Q, hashes: readonly string[]) {
  return db
    .selectFrom('consents')
    .selectAll()
    .where('subject_hash', 'in', [...hashes])
    .orderBy('granted_at', 'desc')
    .execute();
}

export function createComplianceStore(store: Store): ComplianceStore {
  const db = store.db;
  return {
    unit: (work, guard) => store.transaction((tx) => work(complianceTx(tx, store.kind)), guard),
    // The dbTx a case resolution opened: src/compliance holds it only as an opaque handle to give back here.
    within: (tx) => complianceTx(tx as DbTx, store.kind),
    ...consentAndInquiryReads(db),
    ...bureauSubmissionStore(store),
    ...portfolioSnapshotReads(db),
    ...earlyWarningStore(store),
    ...delinquencyNoticeReads(db),
    ...disputeReads(db),
    disputePairs: sealedPairRows(store, DISPUTE_STATEMENT),
    outcomePairs: sealedPairRows(store, DISPUTE_OUTCOME),
    submissionPairs: sealedPairRows(store, BUREAU_SUBMISSION),
    ...portfolioReads(db),
  };
}

/** Consents, borrowers by subject hash, and inquiries (marking one whose report was found). */
function consentAndInquiryReads(
  db: Q,
): Pick<
  ComplianceStore,
  | 'consentsOf'
  | 'borrowerIdByHashes'
  | 'nationalIdHashOf'
  | 'borrowerIdentity'
  | 'borrowerIdentityPage'
  | 'inquiriesOf'
  | 'findInquiry'
  | 'markReportFound'
> {
  return {
    consentsOf: (hashes) => consentsOf(db, hashes),
    async borrowerIdByHashes(hashes) {
      const row = await db
        .selectFrom('borrowers')
        .select('id')
        .where('national_id_hash', 'in', [...hashes])
        .executeTakeFirst();
      return row?.id;
    },
    nationalIdHashOf: (borrowerId) => nationalIdHashOf(db, borrowerId),
    borrowerIdentity: (borrowerId) =>
      db
        .selectFrom('borrowers')
        .select(['id', 'national_id_hash', 'national_id_enc'])
        .where('id', '=', borrowerId)
        .executeTakeFirst(),
    borrowerIdentityPage: (afterId, limit) =>
      db
        .selectFrom('borrowers')
        .select(['id', 'national_id_hash', 'national_id_enc'])
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute(),
    inquiriesOf: (hashes, limit) =>
      db
        .selectFrom('bureau_inquiries')
        .selectAll()
        .where('subject_hash', 'in', [...hashes])
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute(),
    findInquiry: (id) =>
      db.selectFrom('bureau_inquiries').selectAll().where('id', '=', id).executeTakeFirst(),
    async markReportFound(inquiryId) {
      await db.updateTable('bureau_inquiries').set({ report_found: 1 }).where('id', '=', inquiryId).execute();
    },
  };
}

/** The sandbox bureau's reports and received submissions, and the submissions still to send. */
function bureauSubmissionStore(
  store: Store,
): Pick<
  ComplianceStore,
  | 'sandboxReport'
  | 'putSandboxReport'
  | 'sandboxSubmissions'
  | 'insertSandboxSubmission'
  | 'pendingSubmissions'
> {
  const db = store.db;
  return {
    async sandboxReport(subjectHash) {
      const row = await db
        .selectFrom('sandbox_bureau_reports')
        .select('report')
        .where('subject_hash', '=', subjectHash)
        .executeTakeFirst();
      return row?.report;
    },
    async putSandboxReport(subjectHash, report, at) {
      await store.transaction((tx) =>
        tx
          .insertInto('sandbox_bureau_reports')
          .values({ subject_hash: subjectHash, report, updated_at: at })
          .onConflict((oc) => oc.column('subject_hash').doUpdateSet({ report, updated_at: at }))
          .execute(),
      );
    },
    sandboxSubmissions: (subjectHash) =>
      db
        .selectFrom('sandbox_bureau_submissions')
        .select(['id', 'kind', 'payload'])
        .where('subject_hash', '=', subjectHash)
        .orderBy('received_at')
        .orderBy('id')
        .execute(),
    async insertSandboxSubmission(row) {
      // The sandbox receives each submission once, however often the outbox retries it.
      await store.transaction((tx) =>
        tx
          .insertInto('sandbox_bureau_submissions')
          .values({
            id: row.id,
            subject_hash: row.subjectHash,
            kind: row.kind,
            payload: row.payload,
            received_at: row.at,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute(),
      );
    },
    pendingSubmissions: (limit) =>
      db
        .selectFrom('bureau_submissions')
        .selectAll()
        .where('status', '=', 'PENDING')
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute(),
  };
}

/** Portfolio baselines and daily snapshots. */
function portfolioSnapshotReads(
  db: Q,
): Pick<ComplianceStore, 'baseline' | 'snapshotBefore' | 'latestSnapshot' | 'snapshotOf' | 'snapshots'> {
  return {
    async baseline(name) {
      const row = await db
        .selectFrom('portfolio_baselines')
        .select('baseline')
        .where('name', '=', name)
        .executeTakeFirst();
      return row?.baseline;
    },
    async snapshotBefore(asOf) {
      const row = await db
        .selectFrom('portfolio_snapshots')
        .select('metrics')
        .where('as_of', '<', asOf)
        .orderBy('as_of', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row?.metrics;
    },
    async latestSnapshot() {
      const row = await db
        .selectFrom('portfolio_snapshots')
        .select('metrics')
        .orderBy('as_of', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row?.metrics;
    },
    async snapshotOf(asOf) {
      const row = await db
        .selectFrom('portfolio_snapshots')
        .select('metrics')
        .where('as_of', '=', asOf)
        .executeTakeFirst();
      return row?.metrics;
    },
    async snapshots(from, to, limit) {
      const rows = await db
        .selectFrom('portfolio_snapshots')
        .select('metrics')
        .where('as_of', '>=', from)
        .where('as_of', '<=', to)
        .orderBy('as_of')
        .limit(limit)
        .execute();
      return rows.map((r) => r.metrics);
    },
  };
}

/** Early warnings, and the alert each one raised. */
function earlyWarningStore(store: Store): Pick<ComplianceStore, 'warnings' | 'setWarningAlert'> {
  const db = store.db;
  return {
    warnings: (from, to, limit) =>
      db
        .selectFrom('early_warnings')
        .select(['as_of', 'rule_id', 'value', 'threshold', 'alert_id', 'detail'])
        .where('as_of', '>=', from)
        .where('as_of', '<=', to)
        .orderBy('as_of')
        .orderBy('rule_id')
        .limit(limit)
        .execute(),
    async setWarningAlert(asOf, ruleId, alertId) {
      await store.transaction((tx) =>
        tx
          .updateTable('early_warnings')
          .set({ alert_id: alertId })
          .where('as_of', '=', asOf)
          .where('rule_id', '=', ruleId)
          .execute(),
      );
    },
  };
}

/** Loans that need a delinquency notice, and notices due or of a borrower. */
function delinquencyNoticeReads(
  db: Q,
): Pick<ComplianceStore, 'delinquentLoansWithoutNotice' | 'noticesDue' | 'noticesOf' | 'findNotice'> {
  return {
    async delinquentLoansWithoutNotice(current, limit) {
      const rows = await db
        .selectFrom('loans')
        .select(['id', 'line_id', 'borrower_id', 'bucket', 'dpd'])
        .where('settled_at', 'is', null)
        .where('bucket', '!=', current)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('delinquency_notices')
                .select('delinquency_notices.id')
                .whereRef('delinquency_notices.loan_id', '=', 'loans.id')
                .where('delinquency_notices.status', 'in', ['NOTIFIED', 'REPORTED']),
            ),
          ),
        )
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        loanId: r.id,
        lineId: r.line_id,
        borrowerId: r.borrower_id,
        bucket: r.bucket,
        dpd: Number(r.dpd),
      }));
    },
    async noticesDue(now, limit) {
      const rows = await db
        .selectFrom('delinquency_notices')
        .innerJoin('loans', 'loans.id', 'delinquency_notices.loan_id')
        .selectAll('delinquency_notices')
        .select('loans.bucket as current_bucket')
        .where('delinquency_notices.status', '=', 'NOTIFIED')
        .where('delinquency_notices.report_after', '<=', now)
        .orderBy('delinquency_notices.report_after')
        .orderBy('delinquency_notices.id')
        .limit(limit)
        .execute();
      return rows;
    },
    noticesOf: (borrowerId, limit) =>
      db
        .selectFrom('delinquency_notices')
        .selectAll()
        .where('borrower_id', '=', borrowerId)
        .orderBy('notified_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute(),
    findNotice: (id) =>
      db.selectFrom('delinquency_notices').selectAll().where('id', '=', id).executeTakeFirst(),
  };
}

/** A borrower's credit-report disputes, and one dispute. */
function disputeReads(db: Q): Pick<ComplianceStore, 'disputesOf' | 'findDispute'> {
  return {
    disputesOf: (borrowerId, limit): Promise<CreditDisputeRecord[]> =>
      db
        .selectFrom('credit_disputes')
        .selectAll()
        .where('borrower_id', '=', borrowerId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute(),
    findDispute: (id) => db.selectFrom('credit_disputes').selectAll().where('id', '=', id).executeTakeFirst(),
  };
}

/** What a portfolio snapshot is computed from (PortfolioReads in src/compliance/ports.ts). */
function portfolioReads(db: Q) {
  return {
    ...portfolioBookReads(db),
    ...portfolioWindowCounts(db),
    ...portfolioWindowRows(db),
  };
}

/**
 * The book as it stood at an instant (the end of a snapshot's day, of a monthly report's month), reconstructed from
 * the history the book keeps. Each is one statement: the per-line and per-loan lookups are correlated subqueries on
 * indexed columns (line_actions by line and time, repayments and delinquency_changes by loan), so the book of a large
 * portfolio costs a few queries, not one per loan.
 */
function portfolioBookReads(db: Q) {
  return {
    async linesByStatusAt(at: number) {
      const rows = await db
        .selectFrom(linesAt(db, at).as('l'))
        .select(['l.status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('l.status')
        .orderBy('l.status')
        .execute();
      return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
    },
    loanFacts: (asOf: BookInstant) => loanFactsAt(db, asOf),
    async loanApprovalChannels(at: number) {
      return (
        db
          .selectFrom('borrowers')
          // By the borrower the consent names, or by the hash it was given under (a consent may predate the borrower;
          // `keys rotate-data` re-keys both hashes together, so they match again once it has run).
          .innerJoin('consents', (join) =>
            join.on((eb) =>
              eb.or([
                eb('consents.borrower_id', '=', eb.ref('borrowers.id')),
                eb('consents.subject_hash', '=', eb.ref('borrowers.national_id_hash')),
              ]),
            ),
          )
          .select(['borrowers.id as borrowerId', 'consents.channel'])
          .where('consents.purpose', '=', 'LOAN_APPROVAL')
          .where('consents.granted_at', '<', at)
          .orderBy('consents.granted_at')
          .execute()
      );
    },
  };
}

/**
 * Each line opened before `at` with its status then: the new status of its last action applied before `at`. Every
 * line has its GRANT from its first instant (core/applications.ts, core/reviews.ts); for one without, the prior status
 * of its first action after `at`, else its status now. Actions held for review (outcome REVIEW) changed nothing.
 */
function linesAt(db: Q, at: number) {
  return db
    .selectFrom('credit_lines as cl')
    .where('cl.created_at', '<', at)
    .select((eb) =>
      eb.fn
        .coalesce(
          eb
            .selectFrom('line_actions as a')
            .select('a.new_status')
            .whereRef('a.line_id', '=', 'cl.id')
            .where('a.outcome', '=', 'APPLIED')
            .where('a.created_at', '<', at)
            .orderBy('a.created_at', 'desc')
            .orderBy('a.id', 'desc')
            .limit(1),
          eb
            .selectFrom('line_actions as a')
            .select('a.prev_status')
            .whereRef('a.line_id', '=', 'cl.id')
            .where('a.outcome', '=', 'APPLIED')
            .where('a.created_at', '>=', at)
            .orderBy('a.created_at')
            .orderBy('a.id')
            .limit(1),
          eb.ref('cl.status'),
        )
        .as('status'),
    );
}

/**
 * The loans started by `asOf.date` as they stood at `asOf.at` (PortfolioReads.loanFacts). Outstanding principal is
 * the principal less the principal part of the repayments paid (paid_at: the business instant, which a back-dated
 * repayment sets before it was recorded) before `at`: every change of a loan's principal balance is a repayment
 * (core/loans.ts repay). The bucket is the one its last aging for a day up to `asOf.date` gave it: every bucket change
 * is a delinquency_changes row (core/jobs.ts runDailyJob), ordered by the day aged for, then by when it was recorded.
 */
async function loanFactsAt(db: Q, asOf: BookInstant) {
  const rows = await db
    .selectFrom('loans as l')
    .where('l.start_date', '<=', asOf.date)
    .select((eb) => [
      'l.id',
      'l.borrower_id',
      'l.method',
      'l.start_date',
      'l.principal_minor',
      'l.settled_at',
      eb
        .selectFrom('repayments as r')
        .select((r) => r.fn.sum<number>('r.principal_minor').as('p'))
        .whereRef('r.loan_id', '=', 'l.id')
        .where('r.paid_at', '<', asOf.at)
        .as('repaid'),
      eb.fn
        .coalesce(
          eb
            .selectFrom('delinquency_changes as c')
            .select('c.new_bucket')
            .whereRef('c.loan_id', '=', 'l.id')
            .where('c.as_of', '<=', asOf.date)
            .orderBy('c.as_of', 'desc')
            .orderBy('c.created_at', 'desc')
            .orderBy('c.id', 'desc')
            .limit(1),
          eb
            .selectFrom('delinquency_changes as c')
            .select('c.prev_bucket')
            .whereRef('c.loan_id', '=', 'l.id')
            .where('c.as_of', '>', asOf.date)
            .orderBy('c.as_of')
            .orderBy('c.created_at')
            .orderBy('c.id')
            .limit(1),
          eb.ref('l.bucket'),
        )
        .as('bucket'),
    ])
    .execute();
  return rows.map((r) => ({
    loanId: r.id,
    borrowerId: r.borrower_id,
    method: r.method,
    bucket: r.bucket,
    startDate: r.start_date,
    principalMinor: Number(r.principal_minor),
    outstandingMinor: Number(r.principal_minor) - Number(r.repaid ?? 0),
    settledAt: r.settled_at === null ? null : Number(r.settled_at),
  }));
}

/** Counts over a window [from, to): outcomes, applied actions, inquiries, consents, complaints and appeals. */
function portfolioWindowCounts(db: Q) {
  return {
    async applicationOutcomes(from: number, to: number) {
      const rows = await db
        .selectFrom('applications')
        .select(['outcome', (eb) => eb.fn.countAll<number>().as('n')])
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .groupBy('outcome')
        .execute();
      return rows.map((r) => ({ outcome: r.outcome, n: Number(r.n) }));
    },
    async appliedActionCounts(from: number, to: number) {
      const rows = await db
        .selectFrom('line_actions')
        .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
        .where('outcome', '=', 'APPLIED')
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .groupBy('type')
        .execute();
      return rows.map((r) => ({ type: r.type, n: Number(r.n) }));
    },
    async inquiryCounts(from: number, to: number) {
      const rows = await db
        .selectFrom('bureau_inquiries')
        .select(['purpose', 'kind', 'status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .groupBy(['purpose', 'kind', 'status'])
        .orderBy('purpose')
        .orderBy('kind')
        .orderBy('status')
        .execute();
      return rows.map((r) => ({ purpose: r.purpose, kind: r.kind, status: r.status, n: Number(r.n) }));
    },
    async consentCounts(from: number, to: number) {
      const granted = await db
        .selectFrom('consents')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('granted_at', '>=', from)
        .where('granted_at', '<', to)
        .executeTakeFirst();
      const withdrawn = await db
        .selectFrom('consents')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('withdrawn_at', '>=', from)
        .where('withdrawn_at', '<', to)
        .executeTakeFirst();
      return { granted: Number(granted?.n ?? 0), withdrawn: Number(withdrawn?.n ?? 0) };
    },
    async complaintVolumeRows(from: number, to: number) {
      const rows = await db
        .selectFrom('complaints')
        .select(['category', 'state', 'created_at', 'resolved_at', 'due_at'])
        .where('created_at', '<', to)
        .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', from)]))
        .execute();
      return rows.map((r) => volumeRow(r.category, r.state, r.created_at, r.resolved_at, r.due_at));
    },
    async appealVolumeRows(from: number, to: number) {
      const rows = await db
        .selectFrom('appeals')
        .select(['target_kind', 'state', 'created_at', 'resolved_at', 'deadline_at'])
        .where('created_at', '<', to)
        .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', from)]))
        .execute();
      return rows.map((r) => volumeRow(r.target_kind, r.state, r.created_at, r.resolved_at, r.deadline_at));
    },
  };
}

function volumeRow(
  kind: string,
  state: string,
  createdAt: number | string,
  resolvedAt: number | string | null,
  deadlineAt: number | string,
): VolumeRow {
  return {
    kind,
    state,
    createdAt: Number(createdAt),
    resolvedAt: resolvedAt === null ? null : Number(resolvedAt),
    deadlineAt: Number(deadlineAt),
  };
}

/** Rows over a window [from, to): alerts, application results, applied actions of some types. */
function portfolioWindowRows(db: Q) {
  return {
    async alerts(from: number, to: number) {
      const rows = await db
        .selectFrom('monitor_alerts')
        .select(['typology_id', 'status'])
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .execute();
      return rows.map((r) => ({ typologyId: r.typology_id, status: r.status }));
    },
    applicationResults: (from: number, to: number) =>
      db
        .selectFrom('decisions')
        .select(['id', 'result'])
        .where('kind', '=', 'application')
        .where('decided_at', '>=', from)
        .where('decided_at', '<', to)
        .execute(),
    async appliedActions(from: number, to: number, types: readonly string[]) {
      const rows = await db
        .selectFrom('line_actions')
        .select(['type', 'reasons', 'automated'])
        .where('outcome', '=', 'APPLIED')
        .where('type', 'in', [...types])
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .execute();
      return rows.map((r) => ({ type: r.type, reasons: r.reasons, automated: Number(r.automated) }));
    },
  };
}
