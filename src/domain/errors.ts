/**
 * The closed set of expected failures (Fastify/tRPC style): every code has one HTTP status, here and nowhere else.
 * A module that needs a new failure adds a line to ERROR_STATUS; bugs are plain Errors and become a 500
 * without leaking internals.
 */
export const ERROR_STATUS = {
  // request shape and auth
  LG_VALIDATION: 400,
  LG_BAD_JSON: 400,
  LG_UNKNOWN_ATTRIBUTE: 400,
  LG_INVALID_ATTRIBUTE: 400,
  LG_INVALID_NATIONAL_ID: 400,
  LG_INVALID_MONEY: 400,
  LG_CURRENCY_MISMATCH: 400,
  LG_UNAUTHENTICATED: 401,
  LG_FORBIDDEN: 403,
  LG_NOT_FOUND: 404,
  LG_ROUTE_NOT_FOUND: 404,
  LG_IDEMPOTENCY_IN_FLIGHT: 409,
  LG_CONFLICT: 409,
  LG_PAYLOAD_TOO_LARGE: 413,
  LG_UNSUPPORTED_MEDIA_TYPE: 415,
  LG_IDEMPOTENCY_MISMATCH: 422,
  LG_IDEMPOTENCY_KEY_REQUIRED: 400,
  LG_RATE_LIMITED: 429,
  LG_BODY_TOO_DEEP: 400,
  LG_BAD_REQUEST: 400,
  LG_URI_TOO_LONG: 414,
  LG_HEADERS_TOO_LARGE: 431,
  LG_REQUEST_TIMEOUT: 408,
  // credit-line domain
  LG_BORROWER_UNDERAGE: 422,
  LG_BORROWER_CAP_EXCEEDED: 422,
  LG_ILLEGAL_TRANSITION: 409,
  LG_LINE_NOT_ACTIVE: 409,
  LG_LINE_FROZEN: 409,
  LG_LINE_SUSPENDED: 409,
  LG_LINE_CLOSED: 409,
  LG_INSUFFICIENT_CREDIT: 422,
  LG_DRAW_DECLINED: 422,
  LG_APR_CAP_EXCEEDED: 422,
  LG_OVERPAYMENT: 422,
  LG_LOAN_SETTLED: 409,
  LG_INVALID_SCHEDULE: 400,
  LG_APR_NO_SOLUTION: 422,
  // lending: products, quotes, dated repayments, purposes, partners
  LG_REPAYMENT_DATE: 422,
  LG_PRODUCT_INVALID: 400,
  LG_PRODUCT_TERMS: 422,
  LG_PRODUCT_NOT_ACTIVE: 409,
  LG_QUOTE_EXPIRED: 409,
  LG_QUOTE_MISMATCH: 409,
  LG_PURPOSE_FORBIDDEN: 422,
  LG_PURPOSE_UNKNOWN: 400,
  LG_PARTNER_SUSPENDED: 409,
  LG_PARTNER_CONCENTRATION: 422,
  // engine
  LG_STRATEGY_INVALID: 400,
  LG_STRATEGY_NOT_FOUND: 404,
  LG_STRATEGY_NOT_ACTIVE: 409,
  LG_CONTEXT_INVALID: 400,
  LG_VERSION_CONFLICT: 409,
  LG_OVERLAY_UNKNOWN: 400,
  LG_OVERLAY_OUT_OF_BOUNDS: 400,
  // scoring
  LG_MODEL_NOT_FOUND: 404,
  LG_MODEL_INVALID: 400,
  LG_DATA_INVALID: 400,
  // monitor
  LG_EVENT_INVALID: 400,
  LG_BATCH_TOO_LARGE: 413,
  LG_EVENT_CONFLICT: 409,
  // an app reporting an event only the core may report (a disbursement, a repayment, an application)
  LG_EVENT_TYPE_RESERVED: 422,
  // an app event dated further after the server's clock than the tolerance (LINEGUARD_EVENT_FUTURE_TOLERANCE_MS)
  LG_EVENT_IN_FUTURE: 422,
  // a batch job (`jobs daily --as-of`) asked for a day after the lender's today
  LG_AS_OF_IN_FUTURE: 422,
  // service state
  LG_UNAVAILABLE: 503,
  LG_CONFIG_INVALID: 500,
  LG_INTERNAL: 500,
  // a sealed value at rest no held data key opens (altered, copied from another row, or its key not configured)
  LG_SEALED_DATA_UNREADABLE: 500,
  // cases (issue 11)
  LG_CASE_TRANSITION_ILLEGAL: 409,
  LG_CASE_OUTCOME_INVALID: 422,
  LG_DRAW_NOT_HELD: 409,
  LG_APPLICATION_NOT_IN_REVIEW: 409,
  LG_SELF_APPROVAL: 403,
  // a key that belongs to no person cannot take part in four eyes (it binds no one): a person's key is needed
  LG_KEY_UNOWNED: 403,
  LG_CHANGE_NOT_PENDING: 409,
  LG_CHANGE_EXPIRED: 409,
  LG_APPEAL_NOT_ALLOWED: 422,
  // what the appeal is against was already lifted, raised back or replaced: there is nothing for it to undo
  LG_APPEAL_NOT_IN_FORCE: 409,
  // the action (or its decision) was appealed before and that appeal decided: the complaint route is next
  LG_APPEAL_ALREADY_DECIDED: 409,
  LG_COMPLAINT_ALREADY_EXTENDED: 409,
  // scoring: a protected attribute (Reg B 12 CFR 1002.6(b)) asked for as a model input
  LG_PROTECTED_ATTRIBUTE: 400,
  // fleet mode: a dependency is unreachable; retry after the Retry-After header (with the same Idempotency-Key)
  LG_STORE_UNAVAILABLE: 503,
  LG_FEATURES_UNAVAILABLE: 503,
  // compliance: ledger evidence, consent and the credit bureau
  LG_LEDGER_INCONSISTENT: 409,
  LG_CONSENT_MISSING: 403,
  LG_CONSENT_EXPIRED: 403,
  LG_CONSENT_WITHDRAWN: 403,
  LG_CONSENT_PURPOSE: 403,
  LG_INQUIRY_THROTTLED: 429,
  LG_BUREAU_NO_REPORT: 404,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class LgError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'LgError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export function isLgError(value: unknown): value is LgError {
  return value instanceof LgError;
}
