import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { EngineTables } from './engine-tables.js';

/** Tables owned by src/core (see schema.ts for column conventions). */
export interface CoreTables {
  /** Personal data is sealed with src/compliance/crypto.ts; lookups go through the keyed hash only. */
  borrowers: {
    id: string;
    /** HMAC-SHA256 of the normalised national ID (blind index); never the plaintext. */
    national_id_hash: string;
    national_id_enc: string;
    name_enc: string;
    phone_enc: string;
    birth_date_enc: string;
    created_at: number;
  };
  applications: {
    id: string;
    borrower_id: string;
    decision_id: string;
    /** The outcome after the domain's hard rules (may differ from the strategy's, e.g. the borrower cap). */
    outcome: string;
    reasons: string;
    line_id: string | null;
    limit_minor: number | null;
    annual_rate: number | null;
    currency: string;
    created_at: number;
    /** 助贷: the channel the application came through and the funding it asked for (JSON funders), as on its line. */
    channel_partner_id?: string | null;
    funding_mode?: string | null;
    funders?: string | null;
    credit_enhancer_id?: string | null;
    /** The product the application asked for (migration 131): a referred one's line is granted under it on review. */
    product_id?: string | null;
  };
  credit_lines: {
    id: string;
    borrower_id: string;
    status: string;
    currency: string;
    limit_minor: number;
    base_limit_minor: number;
    temp_limit_until: number | null;
    outstanding_minor: number;
    /**
     * What a draw could take now: max(0, limit - outstanding) on an ACTIVE line, 0 on any other (domain/line.ts
     * availableMinor, kept by core-lines.ts availableSql); every draw decrements it with a conditional update
     * `available >= amount`.
     */
    available_minor: number;
    annual_rate: number;
    dpd: number;
    bucket: string;
    created_at: number;
    updated_at: number;
    /** The product version the line was granted under and its terms (immutable per version; see products). */
    product_id?: string | null;
    product_version?: number | null;
    product_terms?: string | null;
    /** 助贷: the partner whose channel brought the line, how it is funded, and each funder's share (JSON). */
    channel_partner_id?: string | null;
    funding_mode?: string | null;
    funders?: string | null;
    credit_enhancer_id?: string | null;
    /** JSON [{partnerId, type, feeRateBps}]: each charging party's fee when the line was granted (all-in cost). */
    partner_fees?: string | null;
  };
  line_actions: {
    id: string;
    line_id: string;
    type: string;
    /** 'APPLIED', or 'REVIEW' when the blast-radius guard held an automated restrictive action for a person. */
    outcome: string;
    reasons: string;
    trace_id: string | null;
    automated: number;
    actor: string | null;
    appealable: number;
    notice_at: number | null;
    prev_status: string;
    new_status: string;
    prev_limit_minor: number;
    new_limit_minor: number;
    prev_rate: number;
    new_rate: number;
    requested_limit_minor: number | null;
    note: string | null;
    created_at: number;
    /**
     * The blast-radius guard's budget the action counts against: 'credit', 'fraud' or 'protective' (engine/guard.ts).
     * Optional on insert: the column defaults to 'credit'.
     */
    action_class: ColumnType<string, string | undefined, string>;
  };
  draws: {
    id: string;
    line_id: string;
    borrower_id: string;
    decision_id: string;
    status: string;
    amount_minor: number;
    currency: string;
    term_months: number;
    method: string;
    purpose: string | null;
    device_id: string | null;
    ip: string | null;
    payee_id: string | null;
    /** Sealed device id, IP and payee as one value (compliance/sealed-draws.ts); null on a draw stored before. */
    origin: string | null;
    reasons: string;
    loan_id: string | null;
    created_at: number;
    /** The quote the draw cited: a held draw is released only on exactly its terms. */
    quote_id: string | null;
  };
  loans: {
    id: string;
    line_id: string;
    borrower_id: string;
    draw_id: string;
    status: string;
    currency: string;
    principal_minor: number;
    outstanding_principal_minor: number;
    annual_rate: number;
    term_months: number;
    method: string;
    start_date: string;
    upfront_fee_minor: number;
    periodic_fee_minor: number;
    apr_us_regz: number;
    apr_eu_ccd: number;
    apr_cn_irr: number;
    total_interest_minor: number;
    total_fees_minor: number;
    total_repayable_minor: number;
    dpd: number;
    bucket: string;
    /** The day (YYYY-MM-DD) the daily job last aged the loan for; null before its first aging. */
    aged_for: string | null;
    created_at: number;
    settled_at: number | null;
    /** Daily-accrual loans (a product's): the terms snapshot at booking, so a product change never alters them. */
    product_id: string | null;
    product_version: number | null;
    terms: string | null;
    /** Contract interest settled (paid or carried as unpaid) through this date; penalty likewise. */
    interest_through: string | null;
    interest_unpaid_minor: number;
    penalty_through: string | null;
    penalty_unpaid_minor: number;
    purpose: string | null;
    quote_id: string | null;
  };
  loan_installments: {
    loan_id: string;
    period: number;
    due_date: string;
    principal_minor: number;
    interest_minor: number;
    fee_minor: number;
    paid_principal_minor: number;
    paid_interest_minor: number;
    paid_fee_minor: number;
    /** Set when the instalment is fully paid. */
    settled_at: number | null;
    /** The part of fee_minor that is a late fee (charged once, when the grace period lapses). */
    late_fee_minor: number;
  };
  repayments: {
    id: string;
    loan_id: string;
    line_id: string;
    amount_minor: number;
    currency: string;
    paid_at: number;
    fee_minor: number;
    interest_minor: number;
    principal_minor: number;
    created_at: number;
    penalty_minor: number;
  };
  products: {
    id: string;
    version: number;
    name: string;
    /** ACTIVE (new lines may be granted under it) or RETIRED. */
    status: string;
    currency: string;
    /** ProductTerms as canonical JSON; a version is never updated. */
    terms: string;
    created_by: string | null;
    created_at: number;
  };
  quotes: {
    id: string;
    line_id: string;
    borrower_id: string;
    amount_minor: number;
    currency: string;
    term_months: number;
    method: string;
    purpose: string | null;
    annual_rate: number;
    /** Canonical JSON of what the loan must book (rate, fees, every instalment): a draw is compared against it. */
    fingerprint: string;
    /** The quote as returned to the client. */
    body: string;
    created_at: number;
    expires_at: number;
  };
  partners: {
    id: string;
    name: string;
    /** PLATFORM_OPERATOR, FUNDER, CREDIT_ENHANCER, COLLECTION_AGENCY, DATA_PROVIDER. */
    type: string;
    licence_no: string;
    /** ACTIVE, SUSPENDED, TERMINATED. */
    status: string;
    /** CLEAR, WATCH or BLOCKED (the partner's own standing on lists). */
    list_status: string;
    contract_start: string;
    contract_end: string;
    /** What the partner charges the borrower a year, in basis points of principal (part of the all-in cost). */
    fee_rate_bps: number;
    /** Largest share of the book's outstanding principal the partner may carry (0–1). */
    concentration_max: number;
    created_at: number;
    updated_at: number;
  };
  partner_quality_alerts: {
    id: string;
    partner_id: string;
    as_of: string;
    /** JSON: [{metric, value, threshold}] */
    breaches: string;
    created_at: number;
  };
  partner_api_keys: {
    key_id: string;
    partner_id: string;
    created_at: number;
  };
  delinquency_changes: {
    id: string;
    loan_id: string;
    line_id: string;
    as_of: string;
    dpd: number;
    prev_bucket: string;
    new_bucket: string;
    created_at: number;
  };
}

/**
 * The core's rows as read and as written, derived from the tables above so that they cannot drift apart. The core's
 * ports take them (src/core/repo.ts) without importing Kysely: this file is the one place of src/store the core may
 * import, and only its types (.dependency-cruiser.cjs).
 */
export type CoreRow<T extends keyof CoreTables> = Selectable<CoreTables[T]>;
export type NewCoreRow<T extends keyof CoreTables> = Insertable<CoreTables[T]>;
/** The engine's decision row, which the core carries from the engine to the store inside a draw's unit of work. */
export type NewDecisionRow = Insertable<EngineTables['decisions']>;
