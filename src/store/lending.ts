import { sql, type Insertable, type Selectable, type SelectQueryBuilder } from 'kysely';
import type {
  BookShare,
  ChannelCounts,
  LendingStore,
  PartnerRecord,
  ProductRecord,
  QualityAlertRecord,
  QuoteRecord,
} from '../core/index.js';
import type { CoreTables } from './core-tables.js';
import type { DbTx, Store, StoreKind } from './db.js';
import type { Database } from './schema.js';
import type { SyncSql } from './sync.js';

/**
 * The lending port of src/core (core/ports/lending.ts) over Kysely: products, quotes, daily-accrual loans and 助贷
 * partners, portable between SQLite and PostgreSQL. The one dialect choice is the row lock (FOR UPDATE, PostgreSQL
 * only: SQLite has a single writer, so a unit of work is serial there already).
 */
type PartnerRow = Selectable<CoreTables['partners']>;
type ProductRow = Selectable<CoreTables['products']>;
type QuoteRow = Selectable<CoreTables['quotes']>;
type QualityAlertRow = Selectable<CoreTables['partner_quality_alerts']>;

const partnerOf = (r: PartnerRow): PartnerRecord => ({
  ...r,
  fee_rate_bps: Number(r.fee_rate_bps),
  concentration_max: Number(r.concentration_max),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});
const productOf = (r: ProductRow): ProductRecord => ({
  ...r,
  version: Number(r.version),
  created_at: Number(r.created_at),
});
const quoteOf = (r: QuoteRow): QuoteRecord => ({
  ...r,
  amount_minor: Number(r.amount_minor),
  term_months: Number(r.term_months),
  annual_rate: Number(r.annual_rate),
  created_at: Number(r.created_at),
  expires_at: Number(r.expires_at),
});
const qualityAlertOf = (r: QualityAlertRow): QualityAlertRecord => ({
  ...r,
  created_at: Number(r.created_at),
});

/**
 * The book's and one channel's outstanding from book_outstanding (migration 126: kept by triggers on credit_lines in
 * the statement that changes a line, so exact in every transaction), instead of a sum over every line of the book.
 */
const BOOK_SHARE_SQL =
  'select coalesce(sum("outstanding_minor"), 0) as "total", ' +
  'coalesce(sum(case when "partner_id" = ? then "outstanding_minor" else 0 end), 0) as "partner" ' +
  'from "book_outstanding"';

type Lending = LendingStore<DbTx, SyncSql>;

export function createLendingStore(store: Store): Lending {
  return {
    ...partnerMethods(store),
    ...channelMethods(store),
    ...qualityAlertMethods(store),
    ...productMethods(store),
    ...quoteMethods(store),
    ...accrualMethods(store),
  };
}

/** Partners and the API keys bound to them. */
function partnerMethods(
  store: Store,
): Pick<
  Lending,
  | 'partner'
  | 'listPartners'
  | 'insertPartner'
  | 'setPartnerStatus'
  | 'activePlatformIds'
  | 'bindPartnerKey'
  | 'partnerOfKey'
> {
  const locked = <O>(query: SelectQueryBuilder<Database, keyof Database, O>, lock: boolean | 'share') => {
    if (!lock || store.kind !== 'postgres') return query;
    return lock === 'share' ? query.forShare() : query.forUpdate();
  };

  return {
    async partner(id, tx, lock = false) {
      const db = tx ?? store.db;
      const row = await locked(
        db.selectFrom('partners').selectAll().where('id', '=', id),
        tx === undefined ? false : lock,
      ).executeTakeFirst();
      return row ? partnerOf(row) : undefined;
    },
    async listPartners(limit) {
      const rows = await store.db.selectFrom('partners').selectAll().orderBy('id').limit(limit).execute();
      return rows.map(partnerOf);
    },
    async insertPartner(tx, row) {
      await tx
        .insertInto('partners')
        .values(row satisfies Insertable<CoreTables['partners']>)
        .execute();
    },
    async setPartnerStatus(tx, id, status, at) {
      await tx.updateTable('partners').set({ status, updated_at: at }).where('id', '=', id).execute();
    },
    async activePlatformIds() {
      const rows = await store.db
        .selectFrom('partners')
        .select('id')
        .where('type', '=', 'PLATFORM_OPERATOR')
        .where('status', '=', 'ACTIVE')
        .orderBy('id')
        .execute();
      return rows.map((r) => r.id);
    },
    async bindPartnerKey(tx, keyId, partnerId, at) {
      await tx
        .insertInto('partner_api_keys')
        .values({ key_id: keyId, partner_id: partnerId, created_at: at })
        .execute();
    },
    async partnerOfKey(keyId) {
      const row = await store.db
        .selectFrom('partner_api_keys')
        .select('partner_id')
        .where('key_id', '=', keyId)
        .executeTakeFirst();
      return row?.partner_id;
    },
  };
}

/** Which partner brought an application or line in, and what that channel holds. */
function channelMethods(
  store: Store,
): Pick<Lending, 'recordChannel' | 'lineChannel' | 'channelLines' | 'channelApplications' | 'channelCounts'> {
  return {
    async recordChannel(tx, ids, line) {
      // The application keeps the channel and funding (not the fees: a line takes the fees in force at its grant).
      const { channel_partner_id, funding_mode, funders, credit_enhancer_id } = line;
      await tx
        .updateTable('applications')
        .set({ channel_partner_id, funding_mode, funders, credit_enhancer_id })
        .where('id', '=', ids.applicationId)
        .execute();
      if (ids.lineId) await tx.updateTable('credit_lines').set(line).where('id', '=', ids.lineId).execute();
    },
    async lineChannel(lineId) {
      const row = await store.readDb
        .selectFrom('credit_lines')
        .select('channel_partner_id')
        .where('id', '=', lineId)
        .executeTakeFirst();
      return row ? { channelPartnerId: row.channel_partner_id ?? null } : undefined;
    },
    async channelLines(partnerId, limit) {
      const rows = await store.db
        .selectFrom('credit_lines')
        .select([
          'id',
          'status',
          'currency',
          'limit_minor',
          'available_minor',
          'outstanding_minor',
          'annual_rate',
          'funding_mode',
          'created_at',
        ])
        .where('channel_partner_id', '=', partnerId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        ...r,
        limit_minor: Number(r.limit_minor),
        available_minor: Number(r.available_minor),
        outstanding_minor: Number(r.outstanding_minor),
        annual_rate: Number(r.annual_rate),
        funding_mode: r.funding_mode ?? null,
        created_at: Number(r.created_at),
      }));
    },
    async channelApplications(partnerId, limit) {
      const rows = await store.db
        .selectFrom('applications')
        .select(['id', 'outcome', 'line_id', 'created_at'])
        .where('channel_partner_id', '=', partnerId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ...r, created_at: Number(r.created_at) }));
    },
    channelCounts: (partnerId, window) => channelCounts(store, partnerId, window),
  };
}

const channelBorrowers = (store: Store, partnerId: string) =>
  store.db.selectFrom('credit_lines').select('borrower_id').where('channel_partner_id', '=', partnerId);

/** The counts a channel's quality review reads: outcomes, loans by bucket, first-payment defaults, fraud, complaints. */
async function channelCounts(
  store: Store,
  partnerId: string,
  window: { fpdDueBefore: string; since: number },
): Promise<ChannelCounts> {
  const db = store.db;
  const apps = await db
    .selectFrom('applications')
    .select(['outcome', (eb) => eb.fn.countAll<number>().as('n')])
    .where('channel_partner_id', '=', partnerId)
    .groupBy('outcome')
    .execute();
  const loans = await db
    .selectFrom('loans')
    .innerJoin('credit_lines', 'credit_lines.id', 'loans.line_id')
    .select(['loans.bucket as bucket', 'loans.outstanding_principal_minor as outstanding'])
    .where('credit_lines.channel_partner_id', '=', partnerId)
    .execute();
  const fpd = await db
    .selectFrom('loan_installments')
    .innerJoin('loans', 'loans.id', 'loan_installments.loan_id')
    .innerJoin('credit_lines', 'credit_lines.id', 'loans.line_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('credit_lines.channel_partner_id', '=', partnerId)
    .where('loan_installments.period', '=', 1)
    .where('loan_installments.settled_at', 'is', null)
    .where('loan_installments.due_date', '<=', window.fpdDueBefore)
    .executeTakeFirst();
  const borrowers = await db
    .selectFrom('credit_lines')
    .select((eb) => eb.fn.count<number>('borrower_id').distinct().as('n'))
    .where('channel_partner_id', '=', partnerId)
    .executeTakeFirst();
  const alerted = await db
    .selectFrom('monitor_alerts')
    .select((eb) => eb.fn.count<number>('user_id').distinct().as('n'))
    .where('created_at', '>=', window.since)
    .where('user_id', 'in', channelBorrowers(store, partnerId))
    .executeTakeFirst();
  const complaints = await db
    .selectFrom('complaints')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_at', '>=', window.since)
    .where('borrower_id', 'in', channelBorrowers(store, partnerId))
    .executeTakeFirst();
  return {
    applicationsByOutcome: apps.map((r) => ({ outcome: r.outcome, n: Number(r.n) })),
    loans: loans.map((l) => ({ bucket: l.bucket, outstandingMinor: Number(l.outstanding) })),
    firstPaymentDefaults: Number(fpd?.n ?? 0),
    borrowers: Number(borrowers?.n ?? 0),
    borrowersWithFraudAlerts: Number(alerted?.n ?? 0),
    complaints: Number(complaints?.n ?? 0),
  };
}

/** Partner quality alerts, and the channel's share of the book that concentration limits read. */
function qualityAlertMethods(
  store: Store,
): Pick<
  Lending,
  'qualityAlertSeen' | 'insertQualityAlert' | 'qualityAlerts' | 'bookShare' | 'bookShareSync'
> {
  return {
    async qualityAlertSeen(tx, partnerId, asOf) {
      const seen = await tx
        .selectFrom('partner_quality_alerts')
        .select('id')
        .where('partner_id', '=', partnerId)
        .where('as_of', '=', asOf)
        .executeTakeFirst();
      return seen !== undefined;
    },
    async insertQualityAlert(tx, row) {
      await tx.insertInto('partner_quality_alerts').values(row).execute();
    },
    async qualityAlerts(partnerId, limit) {
      const rows = await store.db
        .selectFrom('partner_quality_alerts')
        .selectAll()
        .where('partner_id', '=', partnerId)
        .orderBy('as_of', 'desc')
        .limit(limit)
        .execute();
      return rows.map(qualityAlertOf);
    },
    bookShare: (tx, partnerId) => bookShareInTx(tx, store.kind, partnerId),
    bookShareSync,
  };
}

/** Versioned products and the lines bound to them. */
function productMethods(
  store: Store,
): Pick<
  Lending,
  'productVersions' | 'allProductVersions' | 'insertProductVersion' | 'retireProduct' | 'bindLineToProduct'
> {
  return {
    async productVersions(id, tx) {
      const rows = await (tx ?? store.db)
        .selectFrom('products')
        .selectAll()
        .where('id', '=', id)
        .orderBy('version', 'desc')
        .execute();
      return rows.map(productOf);
    },
    async allProductVersions() {
      const rows = await store.db
        .selectFrom('products')
        .selectAll()
        .orderBy('id')
        .orderBy('version', 'desc')
        .execute();
      return rows.map(productOf);
    },
    async insertProductVersion(tx, row) {
      await tx.insertInto('products').values(row).execute();
    },
    async retireProduct(tx, id, version) {
      let query = tx.updateTable('products').set({ status: 'RETIRED' }).where('id', '=', id);
      if (version !== undefined) query = query.where('version', '=', version);
      await query.execute();
    },
    async bindLineToProduct(tx, lineId, columns) {
      await tx.updateTable('credit_lines').set(columns).where('id', '=', lineId).execute();
    },
  };
}

function quoteMethods(store: Store): Pick<Lending, 'insertQuote' | 'quote'> {
  return {
    async insertQuote(tx, row) {
      await tx.insertInto('quotes').values(row).execute();
    },
    async quote(id, tx) {
      const row = await (tx ?? store.db)
        .selectFrom('quotes')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? quoteOf(row) : undefined;
    },
  };
}

/** Daily accrual: installment schedules and the loans the accrual job walks. */
function accrualMethods(
  store: Store,
): Pick<Lending, 'replaceInstallments' | 'updateLoanAccrual' | 'accruingLoanIds'> {
  return {
    async replaceInstallments(tx, loanId, rows) {
      await tx.deleteFrom('loan_installments').where('loan_id', '=', loanId).execute();
      if (rows.length > 0)
        await tx
          .insertInto('loan_installments')
          .values([...rows])
          .execute();
    },
    async updateLoanAccrual(tx, loanId, columns) {
      await tx.updateTable('loans').set(columns).where('id', '=', loanId).execute();
    },
    async accruingLoanIds(afterId, limit) {
      const rows = await store.db
        .selectFrom('loans')
        .select('id')
        .where('status', '=', 'ACTIVE')
        .where('terms', 'is not', null)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },
  };
}

/**
 * The channel partner's and the whole book's outstanding, inside the caller's unit. On PostgreSQL the partner's row
 * is locked first: every draw on this partner's channel waits here for the one before it to commit. (SQLite's single
 * writer already runs units one after another.)
 */
export async function bookShareInTx(tx: DbTx, kind: StoreKind, partnerId: string): Promise<BookShare> {
  const partner = tx.selectFrom('partners').select('id').where('id', '=', partnerId);
  await (kind === 'postgres' ? partner.forUpdate() : partner).executeTakeFirst();
  const sums = (
    await sql<{
      total: number | string;
      partner: number | string;
    }>`select coalesce(sum(outstanding_minor), 0) as total,
      coalesce(sum(case when partner_id = ${partnerId} then outstanding_minor else 0 end), 0) as partner
      from book_outstanding`.execute(tx)
  ).rows[0];
  return { totalMinor: Number(sums?.total ?? 0), partnerMinor: Number(sums?.partner ?? 0) };
}

/** The same on the embedded store's synchronous unit. */
export function bookShareSync(syncSql: SyncSql, partnerId: string): BookShare {
  const sums = syncSql.get<{ total: number; partner: number }>(BOOK_SHARE_SQL, [partnerId]);
  return { totalMinor: Number(sums?.total ?? 0), partnerMinor: Number(sums?.partner ?? 0) };
}
