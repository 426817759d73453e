/**
 * The lending module's storage port (issue 10): products, quotes, daily-accrual loans and 助贷 partners. The core
 * declares what it needs here; src/store/lending.ts implements it over Kysely (SQLite and PostgreSQL) and src/app
 * wires it. `Tx` is the store's unit-of-work handle and `SyncTx` its synchronous SQL on the embedded store, both
 * opaque to the core: it only hands back what the store gave it.
 */

/** A loan instalment as stored (a daily-accrual loan's schedule is rewritten as it is repaid). */
export interface InstallmentRecord {
  readonly loan_id: string;
  readonly period: number;
  readonly due_date: string;
  readonly principal_minor: number;
  readonly interest_minor: number;
  readonly fee_minor: number;
  readonly paid_principal_minor: number;
  readonly paid_interest_minor: number;
  readonly paid_fee_minor: number;
  readonly settled_at: number | null;
  readonly late_fee_minor: number;
}

/** A registered partner as stored (金规〔2025〕9号). */
export interface PartnerRecord {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly licence_no: string;
  readonly status: string;
  readonly list_status: string;
  readonly contract_start: string;
  readonly contract_end: string;
  readonly fee_rate_bps: number;
  readonly concentration_max: number;
  readonly created_at: number;
  readonly updated_at: number;
}

/** One version of a product; `terms` is canonical JSON of ProductTerms and never changes once written. */
export interface ProductRecord {
  readonly id: string;
  readonly version: number;
  readonly name: string;
  readonly status: string;
  readonly currency: string;
  readonly terms: string;
  readonly created_by: string | null;
  readonly created_at: number;
}

export interface QuoteRecord {
  readonly id: string;
  readonly line_id: string;
  readonly borrower_id: string;
  readonly amount_minor: number;
  readonly currency: string;
  readonly term_months: number;
  readonly method: string;
  readonly purpose: string | null;
  readonly annual_rate: number;
  readonly fingerprint: string;
  readonly body: string;
  readonly created_at: number;
  readonly expires_at: number;
}

export interface QualityAlertRecord {
  readonly id: string;
  readonly partner_id: string;
  readonly as_of: string;
  /** JSON: [{metric, value, threshold}] */
  readonly breaches: string;
  readonly created_at: number;
}

/** What a line records about its channel at grant (never changed afterwards). */
export interface LineChannelColumns {
  readonly channel_partner_id: string;
  readonly funding_mode: string;
  /** JSON [{partnerId, shareBps}] */
  readonly funders: string;
  readonly credit_enhancer_id: string | null;
  /** JSON [{partnerId, type, feeRateBps}]: the fees every charging party had when the line was granted. */
  readonly partner_fees: string;
}

export interface LineProductColumns {
  readonly product_id: string;
  readonly product_version: number;
  readonly product_terms: string;
}

/** The daily-accrual state columns of a loan. */
export interface LoanAccrualColumns {
  readonly outstanding_principal_minor?: number;
  readonly interest_through?: string | null;
  readonly interest_unpaid_minor?: number;
  readonly penalty_through?: string | null;
  readonly penalty_unpaid_minor?: number;
  readonly status?: string;
  readonly settled_at?: number | null;
}

export interface ChannelLineRecord {
  readonly id: string;
  readonly status: string;
  readonly currency: string;
  readonly limit_minor: number;
  readonly available_minor: number;
  readonly outstanding_minor: number;
  readonly annual_rate: number;
  readonly funding_mode: string | null;
  readonly created_at: number;
}

export interface ChannelApplicationRecord {
  readonly id: string;
  readonly outcome: string;
  readonly line_id: string | null;
  readonly created_at: number;
}

/** The raw counts behind a channel's quality (partners.ts turns them into rates). */
export interface ChannelCounts {
  readonly applicationsByOutcome: readonly { readonly outcome: string; readonly n: number }[];
  readonly loans: readonly { readonly bucket: string; readonly outstandingMinor: number }[];
  /** Loans whose first instalment, due on or before the cut-off, is still unsettled. */
  readonly firstPaymentDefaults: number;
  /** Borrowers with a line on the channel. */
  readonly borrowers: number;
  /** Of those, borrowers with at least one monitor alert (typology or system) since `since`. */
  readonly borrowersWithFraudAlerts: number;
  /** Complaints filed since `since` by borrowers with a line on the channel. */
  readonly complaints: number;
}

/** The book's outstanding principal, and the part of it on one partner's channel. */
export interface BookShare {
  readonly totalMinor: number;
  readonly partnerMinor: number;
}

export interface LendingStore<Tx, SyncTx> {
  // ------------------------------------------------------------ partners
  /** The partner, read in `tx` when given (then locked FOR UPDATE on PostgreSQL when `lock`). */
  /**
   * A partner; in a transaction optionally locked (PostgreSQL): `true` for update, `'share'` against a concurrent
   * status change while other readers go on.
   */
  partner(id: string, tx?: Tx, lock?: boolean | 'share'): Promise<PartnerRecord | undefined>;
  listPartners(limit: number): Promise<PartnerRecord[]>;
  insertPartner(tx: Tx, row: PartnerRecord): Promise<void>;
  setPartnerStatus(tx: Tx, id: string, status: string, at: number): Promise<void>;
  activePlatformIds(): Promise<string[]>;
  bindPartnerKey(tx: Tx, keyId: string, partnerId: string, at: number): Promise<void>;
  partnerOfKey(keyId: string): Promise<string | undefined>;
  recordChannel(
    tx: Tx,
    ids: { applicationId: string; lineId?: string },
    line: LineChannelColumns,
  ): Promise<void>;
  /** The line's channel partner (null: a direct line), or undefined when there is no such line. */
  lineChannel(lineId: string): Promise<{ channelPartnerId: string | null } | undefined>;
  channelLines(partnerId: string, limit: number): Promise<ChannelLineRecord[]>;
  channelApplications(partnerId: string, limit: number): Promise<ChannelApplicationRecord[]>;
  channelCounts(partnerId: string, window: { fpdDueBefore: string; since: number }): Promise<ChannelCounts>;
  qualityAlertSeen(tx: Tx, partnerId: string, asOf: string): Promise<boolean>;
  insertQualityAlert(tx: Tx, row: QualityAlertRecord): Promise<void>;
  qualityAlerts(partnerId: string, limit: number): Promise<QualityAlertRecord[]>;
  /**
   * The book's outstanding and the partner's part of it, inside the draw's unit of work, after locking the partner's
   * row (PostgreSQL): draws on one channel then read the shares one after another, so the limit holds exactly.
   */
  bookShare(tx: Tx, partnerId: string): Promise<BookShare>;
  /** The same on the embedded store's synchronous unit (the single writer already serialises it). */
  bookShareSync(sql: SyncTx, partnerId: string): BookShare;

  // ------------------------------------------------------------ products
  /** Every version of a product, newest first (in `tx` when given). */
  productVersions(id: string, tx?: Tx): Promise<ProductRecord[]>;
  /** Every version of every product, by id then newest first. */
  allProductVersions(): Promise<ProductRecord[]>;
  insertProductVersion(tx: Tx, row: ProductRecord): Promise<void>;
  /** Retires one version, or every version when `version` is undefined. */
  retireProduct(tx: Tx, id: string, version?: number): Promise<void>;
  bindLineToProduct(tx: Tx, lineId: string, columns: LineProductColumns): Promise<void>;

  // ------------------------------------------------------------ quotes
  insertQuote(tx: Tx, row: QuoteRecord): Promise<void>;
  /** A stored quote; in `tx` when given (a release reads it inside its unit). */
  quote(id: string, tx?: Tx): Promise<QuoteRecord | undefined>;

  // ------------------------------------------------------------ daily-accrual loans
  /** Replaces a loan's instalments (a loan has at most 360; re-projection may renumber the tail). */
  replaceInstallments(tx: Tx, loanId: string, rows: readonly InstallmentRecord[]): Promise<void>;
  updateLoanAccrual(tx: Tx, loanId: string, columns: LoanAccrualColumns): Promise<void>;
  /** Ids of active daily-accrual loans after `afterId`, in id order. */
  accruingLoanIds(afterId: string, limit: number): Promise<string[]>;
}
