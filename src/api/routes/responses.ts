import { Type } from '@sinclair/typebox';
import { LINE_ACTION_TYPES, OUTCOMES } from '../../domain/index.js';

/**
 * The shapes the public API answers with (issue 14): every operation declares its success and error responses with
 * these, Fastify serialises with them (fast-json-stringify, which drops members a schema does not name) and
 * /openapi.json publishes them for the dashboard's generated client. Shapes a client reads member by member are
 * closed; shapes that are open by nature (decision traces, evidence, context maps, payloads) are Record/Unknown, so
 * nothing is dropped. test/api/openapi-contract.test.ts checks every operation and each answer against these.
 */

/** A union of string literals from the list the domain keeps of them, so a schema never lists them again. */
export const literals = <T extends string>(values: readonly T[]) =>
  Type.Union(values.map((value) => Type.Literal(value)));

/** A decision's outcome. */
const Outcome = literals(OUTCOMES);
/** A line action a strategy or a person asks for. */
const LineActionType = literals(LINE_ACTION_TYPES);
/** What a decision-table cell, a scorecard bin or a matrix bin matches: a value, a list of values, or anything. */
const CellValue = Type.Union([
  Type.Boolean(),
  Type.String(),
  Type.Number(),
  Type.Array(Type.Union([Type.Boolean(), Type.String(), Type.Number()])),
  Type.Null(),
]);
/** What a decision-table row sets an output to: a value or an expression. */
const OutputValue = Type.Union([
  Type.Boolean(),
  Type.String(),
  Type.Number(),
  Type.Object({ expr: Type.String() }),
  Type.Null(),
]);

/** The one error shape (LgError.toBody): a stable LG_ code, what was wrong and how to fix it, optional details. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ pattern: '^LG_[A-Z0-9_]+$' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorBody', description: 'An error: a stable code, what was wrong and how to fix it' },
);
const ErrorRef = Type.Ref(ErrorBody);

function errors<const S extends number>(...statuses: S[]): { [K in S]: typeof ErrorRef } {
  return Object.fromEntries(statuses.map((s) => [s, ErrorRef])) as { [K in S]: typeof ErrorRef };
}

/**
 * A failure of the server's own (500), which any route can answer: LG_INTERNAL (a defect; logged, internals never in
 * the answer), or LG_SEALED_DATA_UNREADABLE where a route opens personal data sealed at rest (a decision's context
 * and trace, a dispute's claim and text, an appeal's or a complaint's texts) that no data key held here opens. Declared on every route, in the one
 * ErrorBody shape, so a client knows the shape and the codes of what it may be told.
 */
const SERVER_ERROR = {
  500: Type.Ref(ErrorBody, {
    description:
      'LG_INTERNAL: the server failed (logged). LG_SEALED_DATA_UNREADABLE: a sealed value at rest (a decision context ' +
      "or trace, a dispute's claim or text) no data key held here opens: altered, copied from another row, or sealed " +
      'under a key not configured (LINEGUARD_RETIRED_KEYS)',
  }),
};

/**
 * What any authenticated route can answer besides success: a malformed request (400), no or a bad key (401), a role
 * that may not (403), a rate limit (429), the database unreachable or the server shutting down (503), and a failure
 * of its own (500, SERVER_ERROR).
 */
export const READ_ERRORS = { ...errors(400, 401, 403, 429, 503), ...SERVER_ERROR };
/** A read of one thing by id: also 404. */
export const ITEM_READ_ERRORS = { ...errors(400, 401, 403, 404, 429, 503), ...SERVER_ERROR };
/**
 * A write: also 404 (its subject), 409 (state conflict, idempotency key in flight), 413/415 (body too large or not
 * JSON) and 422 (a rule refused it, idempotency key reused with another body).
 */
export const WRITE_ERRORS = { ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503), ...SERVER_ERROR };

/** GET /health: ok or degraded, with whatever each dependency check reports (open: the checks are the app's). */
export const HealthReport = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    down: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);

/** 204: no body. */
export const NoContent = Type.Null({ description: 'No content' });

/** Any JSON object, passed through whole (a JSON Schema document). */
export const JsonSchemaDocument = Type.Object({}, { additionalProperties: true });

export const CaseView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  priority: Type.Number(),
  state: Type.String(),
  subjectId: Type.String(),
  lineId: Type.Union([Type.String(), Type.Null()]),
  borrowerId: Type.Union([Type.String(), Type.Null()]),
  typologyId: Type.Union([Type.String(), Type.Null()]),
  ruleIds: Type.Array(Type.String()),
  assignee: Type.Union([Type.String(), Type.Null()]),
  slaDueAt: Type.String(),
  slaBreached: Type.Boolean(),
  escalatedAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
  resolvedBy: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([Type.String(), Type.Null()]),
  outcomeDetail: Type.Unknown(),
});

export const LabelStats = Type.Object({
  alerts: Type.Number(),
  dispositions: Type.Object({
    CONFIRMED_FRAUD: Type.Number(),
    FALSE_POSITIVE: Type.Number(),
    CUSTOMER_ERROR: Type.Number(),
    INCONCLUSIVE: Type.Number(),
  }),
  undisposed: Type.Number(),
  falsePositiveRate: Type.Union([Type.Number(), Type.Null()]),
});

export const TypeStats = Type.Object({
  cases: Type.Number(),
  resolved: Type.Number(),
  resolvedWithinSla: Type.Number(),
  breached: Type.Number(),
  meanMsToResolve: Type.Union([Type.Number(), Type.Null()]),
  medianMsToResolve: Type.Union([Type.Number(), Type.Null()]),
  slaMs: Type.Union([Type.Number(), Type.Null()]),
});

export const CaseStats = Type.Object({
  byTypology: Type.Record(Type.String(), LabelStats),
  byRule: Type.Record(Type.String(), LabelStats),
  byType: Type.Record(Type.String(), TypeStats),
  rowsRead: Type.Number(),
  truncated: Type.Boolean(),
});

export const PendingChangeView = Type.Object({
  id: Type.String(),
  operation: Type.String(),
  subjectId: Type.String(),
  payload: Type.Unknown(),
  diff: Type.Unknown(),
  // null (with `unreadable`, and payload, diff and decisionNote null) in a list, for a change whose sealed texts no
  // data key held opens; read alone it answers 500 LG_SEALED_DATA_UNREADABLE.
  reason: Type.Union([Type.String(), Type.Null()]),
  maker: Type.String(),
  state: Type.String(),
  checker: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
  decisionNote: Type.Union([Type.String(), Type.Null()]),
  result: Type.Unknown(),
  expiresAt: Type.String(),
  createdAt: Type.String(),
  unreadable: Type.Optional(Type.String()),
});

export const ConsentView = Type.Object({
  id: Type.String(),
  borrowerId: Type.Union([Type.String(), Type.Null()]),
  purpose: Type.String(),
  textVersion: Type.String(),
  textSha256: Type.String(),
  channel: Type.String(),
  grantedAt: Type.String(),
  expiresAt: Type.String(),
  withdrawnAt: Type.Union([Type.String(), Type.Null()]),
  withdrawnReason: Type.Union([Type.String(), Type.Null()]),
  recordedBy: Type.String(),
  status: Type.Union([Type.Literal('EXPIRED'), Type.Literal('VALID'), Type.Literal('WITHDRAWN')]),
});

export const InquiryView = Type.Object({
  id: Type.String(),
  purpose: Type.String(),
  kind: Type.String(),
  status: Type.String(),
  refusalCode: Type.Union([Type.String(), Type.Null()]),
  bureau: Type.String(),
  requestedBy: Type.String(),
  reason: Type.String(),
  at: Type.String(),
});

export const BureauReport = Type.Object({
  existingDebtMinor: Type.Integer(),
  externalDelinquent: Type.Boolean(),
  inquiries30d: Type.Number(),
});

export const LineSummaryRow = Type.Object({
  id: Type.String(),
  borrowerId: Type.String(),
  status: Type.String(),
  currency: Type.String(),
  limitMinor: Type.Integer(),
  availableMinor: Type.Integer(),
  outstandingMinor: Type.Integer(),
  dpd: Type.Number(),
  bucket: Type.String(),
  updatedAt: Type.Number(),
});

export const BorrowerReason = Type.Object({
  code: Type.String(),
  text: Type.String(),
  action: Type.String(),
  appealable: Type.Boolean(),
});

/** A decision's reasons as the borrower reads them, in Chinese and English (the shape of `explanation`). */
export const BorrowerReasonsByLang = Type.Object({
  zh: Type.Array(BorrowerReason),
  en: Type.Array(BorrowerReason),
});

export const MaskedBorrower = Type.Object({
  id: Type.String(),
  name: Type.String(),
  nationalId: Type.String(),
  phone: Type.String(),
});

export const DeclineExplanation = Type.Object({
  reasons: Type.Array(BorrowerReason),
  whatToDo: Type.Array(Type.String()),
  appeal: Type.Object({
    appealable: Type.Boolean(),
    deadline: Type.Union([Type.String(), Type.Null()]),
    how: Type.String(),
    path: Type.String(),
  }),
});

export const ApplicationResult = Type.Object({
  applicationId: Type.String(),
  decisionId: Type.String(),
  borrowerId: Type.String(),
  outcome: Outcome,
  reasons: Type.Array(Type.String()),
  borrowerReasons: Type.Array(BorrowerReason, {
    description: 'The reasons in Chinese (kept for existing clients; the same as borrowerReasonsByLang.zh)',
  }),
  borrowerReasonsByLang: BorrowerReasonsByLang,
  borrower: MaskedBorrower,
  line: Type.Union([
    Type.Object({
      id: Type.String(),
      status: Type.String(),
      limitMinor: Type.Integer(),
      annualRate: Type.Number(),
      currency: Type.String(),
    }),
    Type.Null(),
  ]),
  adjustments: Type.Array(Type.String()),
  explanation: Type.Optional(Type.Object({ zh: DeclineExplanation, en: DeclineExplanation })),
});

export const ActionView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  outcome: Type.String(),
  reasons: Type.Array(Type.String()),
  traceId: Type.Union([Type.String(), Type.Null()]),
  automated: Type.Boolean(),
  actor: Type.Union([Type.String(), Type.Null()]),
  appealable: Type.Boolean(),
  noticeAt: Type.Union([Type.String(), Type.Null()]),
  prevStatus: Type.String(),
  newStatus: Type.String(),
  prevLimitMinor: Type.Integer(),
  newLimitMinor: Type.Integer(),
  prevAnnualRate: Type.Number(),
  newAnnualRate: Type.Number(),
  // The note as written (sealed at rest); null, with noteUnreadable saying why, when no data key held opens it.
  note: Type.Union([Type.String(), Type.Null()]),
  noteUnreadable: Type.Optional(Type.String()),
  at: Type.String(),
});

export const LineView = Type.Object({
  id: Type.String(),
  status: Type.String(),
  currency: Type.String(),
  limitMinor: Type.Integer(),
  baseLimitMinor: Type.Integer(),
  tempLimitUntil: Type.Union([Type.String(), Type.Null()]),
  availableMinor: Type.Integer(),
  outstandingPrincipalMinor: Type.Integer(),
  annualRate: Type.Number(),
  dpd: Type.Number(),
  bucket: Type.String(),
  borrower: MaskedBorrower,
  recentActions: Type.Array(ActionView),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

/**
 * An action as a loan-facilitation partner sees it on its channel's line: what was done and why, not the lender's
 * own investigation (staff notes, sealed at rest as personal data), who at the lender did it, or its trace.
 */
export const PartnerActionView = Type.Omit(ActionView, ['note', 'noteUnreadable', 'actor', 'traceId']);

export const PartnerLineView = Type.Composite([
  Type.Omit(LineView, ['recentActions']),
  Type.Object({ recentActions: Type.Array(PartnerActionView) }),
]);

export const LineActionResult = Type.Object({
  actionId: Type.String(),
  lineId: Type.String(),
  type: LineActionType,
  outcome: Type.Union([Type.Literal('REVIEW'), Type.Literal('APPLIED')]),
  reasons: Type.Array(Type.String()),
  prevStatus: Type.String(),
  newStatus: Type.String(),
  prevLimitMinor: Type.Integer(),
  newLimitMinor: Type.Integer(),
  newAnnualRate: Type.Number(),
  clipped: Type.Boolean(),
});

export const ExplanationSpecifics = Type.Object({
  overdue: Type.Union([
    Type.Object({ amountMinor: Type.Integer(), days: Type.Number(), oldestDueDate: Type.String() }),
    Type.Null(),
  ]),
  limit: Type.Union([Type.Object({ beforeMinor: Type.Integer(), afterMinor: Type.Integer() }), Type.Null()]),
  action: Type.Union([
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      at: Type.String(),
      by: Type.Union([Type.Literal('borrower'), Type.Literal('automated'), Type.Literal('person')]),
      actor: Type.Union([Type.String(), Type.Null()], {
        description:
          'The job or rule set behind an automated action (e.g. strategy:line-review, monitor); null for a person (the ' +
          'borrower is told a person acted, never which staff member) and for a request keyed in for the borrower',
      }),
      decisionId: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  repayBy: Type.Union([Type.String(), Type.Null()]),
});

export const LineExplanation = Type.Object({
  lineId: Type.String(),
  lang: Type.Union([Type.Literal('zh'), Type.Literal('en')]),
  status: Type.String(),
  statusText: Type.String(),
  limitMinor: Type.Integer(),
  availableMinor: Type.Integer(),
  currency: Type.String(),
  reasons: Type.Array(BorrowerReason),
  summary: Type.String(),
  whatToDo: Type.Array(Type.String()),
  appeal: Type.Object({
    appealable: Type.Boolean(),
    deadline: Type.Union([Type.String(), Type.Null()]),
    how: Type.String(),
    path: Type.String(),
  }),
  automated: Type.Boolean(),
  decidedAt: Type.Union([Type.String(), Type.Null()]),
  specifics: ExplanationSpecifics,
});

export const InstallmentView = Type.Object({
  period: Type.Number(),
  dueDate: Type.String(),
  principalMinor: Type.Integer(),
  interestMinor: Type.Integer(),
  feeMinor: Type.Integer(),
  totalMinor: Type.Integer(),
  paidPrincipalMinor: Type.Integer(),
  paidInterestMinor: Type.Integer(),
  paidFeeMinor: Type.Integer(),
  outstandingMinor: Type.Integer(),
  settled: Type.Boolean(),
});

export const Owed = Type.Object({
  feeMinor: Type.Integer(),
  penaltyMinor: Type.Integer(),
  interestMinor: Type.Integer(),
  principalDueMinor: Type.Integer(),
  principalMinor: Type.Integer(),
  payoffMinor: Type.Integer(),
  accruedInterestMinor: Type.Integer(),
  accruedPenaltyMinor: Type.Integer(),
});

export const AccrualView = Type.Object({
  dayCount: Type.String(),
  dailyRate: Type.Number(),
  productId: Type.String(),
  productVersion: Type.Number(),
  interestThrough: Type.String(),
  owedToday: Owed,
});

/** A loan without a product: what repaying in full today costs (core/allocation.ts payoffOn). */
export const ScheduledPayoff = Type.Object({
  date: Type.String(),
  feeMinor: Type.Integer(),
  interestMinor: Type.Integer(),
  principalMinor: Type.Integer(),
  payoffMinor: Type.Integer(),
});

export const LoanView = Type.Object({
  id: Type.String(),
  lineId: Type.String(),
  drawId: Type.String(),
  status: Type.String(),
  currency: Type.String(),
  principalMinor: Type.Integer(),
  outstandingPrincipalMinor: Type.Integer(),
  annualRate: Type.Number(),
  termMonths: Type.Number(),
  method: Type.String(),
  startDate: Type.String(),
  dpd: Type.Number(),
  bucket: Type.String(),
  disclosure: Type.Object({
    apr: Type.Object({ US_REGZ: Type.Number(), EU_CCD: Type.Number(), CN_IRR: Type.Number() }),
    upfrontFeeMinor: Type.Integer(),
    periodicFeeMinor: Type.Integer(),
    totalInterestMinor: Type.Integer(),
    totalFeesMinor: Type.Integer(),
    totalRepayableMinor: Type.Integer(),
  }),
  schedule: Type.Array(InstallmentView),
  accrual: Type.Optional(AccrualView),
  payoffToday: Type.Optional(ScheduledPayoff),
  purpose: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  settledAt: Type.Union([Type.String(), Type.Null()]),
});

export const DrawResult = Type.Object({
  drawId: Type.String(),
  decisionId: Type.String(),
  status: Type.Union([
    Type.Literal('APPROVED'),
    Type.Literal('REVIEW'),
    Type.Literal('CHALLENGE'),
    Type.Literal('COOLDOWN'),
    Type.Literal('HOLD'),
    Type.Literal('DECLINED'),
  ]),
  reasons: Type.Array(Type.String()),
  borrowerReasons: Type.Array(BorrowerReason, {
    description: 'The reasons in Chinese (kept for existing clients; the same as borrowerReasonsByLang.zh)',
  }),
  borrowerReasonsByLang: BorrowerReasonsByLang,
  loan: Type.Optional(LoanView),
  warning: Type.Optional(Type.Object({ zh: Type.String(), en: Type.String() })),
});

export const RepaymentResult = Type.Object({
  repaymentId: Type.String(),
  loanId: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  allocated: Type.Object({
    feeMinor: Type.Integer(),
    penaltyMinor: Type.Optional(Type.Integer()),
    interestMinor: Type.Integer(),
    principalMinor: Type.Integer(),
  }),
  loan: LoanView,
});

export const SignedCheckpoint = Type.Object({
  origin: Type.String(),
  treeSize: Type.Number(),
  rootHash: Type.String(),
  issuedAt: Type.Number(),
  keyId: Type.String(),
  signature: Type.String(),
  /** Signed with the rest: without them a client cannot check the signature. Absent on pre-partitioning checkpoints. */
  chains: Type.Optional(
    Type.Array(Type.Object({ chain: Type.Number(), length: Type.Number(), hash: Type.String() })),
  ),
});

export const InclusionProof = Type.Object({
  entry: Type.Object({
    seq: Type.Number(),
    entryId: Type.String(),
    kind: Type.String(),
    subjectId: Type.String(),
    payload: Type.String(),
    recordedAt: Type.Number(),
    prevHash: Type.String(),
    hash: Type.String(),
  }),
  leaf: Type.String(),
  leafHash: Type.String(),
  leafIndex: Type.Number(),
  treeSize: Type.Number(),
  path: Type.Array(Type.String()),
  checkpoint: SignedCheckpoint,
  publicKey: Type.Object({ keyId: Type.String(), ed25519: Type.String() }),
});

export const ConsistencyProof = Type.Object({
  from: SignedCheckpoint,
  to: SignedCheckpoint,
  proof: Type.Array(Type.String()),
});

export const DrawListItem = Type.Object({
  id: Type.String(),
  status: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  termMonths: Type.Number(),
  method: Type.String(),
  decisionId: Type.String(),
  loanId: Type.Union([Type.String(), Type.Null()]),
  reasons: Type.Array(Type.String()),
  createdAt: Type.String(),
});

export const LoanListItem = Type.Object({
  id: Type.String(),
  drawId: Type.String(),
  status: Type.String(),
  currency: Type.String(),
  principalMinor: Type.Integer(),
  outstandingPrincipalMinor: Type.Integer(),
  termMonths: Type.Number(),
  method: Type.String(),
  createdAt: Type.String(),
  settledAt: Type.Union([Type.String(), Type.Null()]),
});

export const LineListItem = Type.Object({
  id: Type.String(),
  status: Type.String(),
  currency: Type.String(),
  limitMinor: Type.Integer(),
  availableMinor: Type.Integer(),
  outstandingMinor: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const RegisteredModel = Type.Object({
  id: Type.String(),
  version: Type.Number(),
  kind: Type.String(),
  registeredBy: Type.String(),
  registeredAt: Type.Number(),
});

export const ModelActivation = Type.Object({
  id: Type.String(),
  version: Type.Number(),
  previousVersion: Type.Union([Type.Number(), Type.Null()]),
  activatedBy: Type.String(),
  activatedAt: Type.Number(),
});

export const FiredTypology = Type.Object({
  id: Type.String(),
  version: Type.Number(),
  rules: Type.Array(Type.String()),
});

export const RaisedAlert = Type.Object({
  alertId: Type.String(),
  typology: Type.String(),
  severity: Type.Union([
    Type.Literal('low'),
    Type.Literal('medium'),
    Type.Literal('high'),
    Type.Literal('critical'),
  ]),
  userId: Type.String(),
  new: Type.Boolean(),
});

export const ActionTaken = Type.Object({
  actionId: Type.String(),
  type: Type.Union([
    Type.Literal('CHALLENGE'),
    Type.Literal('COOLDOWN'),
    Type.Literal('HOLD'),
    Type.Literal('FREEZE_DRAW'),
    Type.Literal('SUSPEND'),
  ]),
  status: Type.Union([Type.Literal('PENDING'), Type.Literal('INSTRUCTED'), Type.Literal('SKIPPED')]),
  lineId: Type.Optional(Type.String()),
  cooldownMs: Type.Optional(Type.Number()),
  warning: Type.Optional(Type.Object({ zh: Type.String(), en: Type.String() })),
  reasons: Type.Array(Type.String()),
});

export const EventOutcome = Type.Object({
  eventId: Type.String(),
  status: Type.Union([Type.Literal('accepted'), Type.Literal('duplicate')]),
  typologies: Type.Array(FiredTypology),
  alerts: Type.Array(RaisedAlert),
  actions: Type.Array(ActionTaken),
});

export const AlertView = Type.Object({
  alertId: Type.String(),
  typology: Type.Object({ id: Type.String(), version: Type.Number() }),
  severity: Type.String(),
  status: Type.String(),
  userId: Type.String(),
  lineId: Type.Union([Type.String(), Type.Null()]),
  eventId: Type.String(),
  occurredAt: Type.String(),
  createdAt: Type.String(),
  reasons: Type.Array(Type.String()),
  evidence: Type.Unknown(),
  actions: Type.Array(
    Type.Object({
      actionId: Type.String(),
      type: Type.String(),
      status: Type.String(),
      lineId: Type.Union([Type.String(), Type.Null()]),
      detail: Type.Unknown(),
    }),
  ),
});

export const ListHit = Type.Object({
  list: Type.Union([Type.Literal('black'), Type.Literal('grey'), Type.Literal('white')]),
  entityType: Type.Union([
    Type.Literal('ip'),
    Type.Literal('user'),
    Type.Literal('device'),
    Type.Literal('payee'),
    Type.Literal('merchant'),
    Type.Literal('nationalIdHash'),
    Type.Literal('phoneHash'),
  ]),
  entryId: Type.String(),
  reason: Type.String(),
  source: Type.String(),
});

export const SharedListExport = Type.Object({
  partnerId: Type.String(),
  algorithm: Type.Literal('HMAC-SHA256'),
  keyFingerprint: Type.String(),
  entries: Type.Array(
    Type.Object({
      list: Type.Union([Type.Literal('black'), Type.Literal('grey'), Type.Literal('white')]),
      entityType: Type.Union([
        Type.Literal('ip'),
        Type.Literal('user'),
        Type.Literal('device'),
        Type.Literal('payee'),
        Type.Literal('merchant'),
        Type.Literal('nationalIdHash'),
        Type.Literal('phoneHash'),
      ]),
      hmac: Type.String(),
      reason: Type.String(),
      source: Type.String(),
      expiresAt: Type.Optional(Type.Number()),
    }),
  ),
  withheld: Type.Optional(Type.Number()),
});

export const PartnerView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  licenceNo: Type.String(),
  status: Type.String(),
  listStatus: Type.String(),
  contractStart: Type.String(),
  contractEnd: Type.String(),
  feeRateBps: Type.Number(),
  concentrationMax: Type.Number(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const ChannelBreach = Type.Object({
  metric: Type.Union([
    Type.Literal('firstPaymentDefaultRate'),
    Type.Literal('delinquentShare'),
    Type.Literal('approvalRate'),
    Type.Literal('fraudAlertRate'),
    Type.Literal('complaintRate'),
  ]),
  value: Type.Number(),
  threshold: Type.Number(),
});

export const ChannelAlert = Type.Object({
  partnerId: Type.String(),
  asOf: Type.String(),
  breaches: Type.Array(ChannelBreach),
});

export const ChannelQuality = Type.Object({
  partnerId: Type.String(),
  applications: Type.Number(),
  approved: Type.Number(),
  approvalRate: Type.Union([Type.Number(), Type.Null()]),
  loans: Type.Number(),
  firstPaymentDefaultRate: Type.Union([Type.Number(), Type.Null()]),
  loansByBucket: Type.Record(Type.String(), Type.Number()),
  outstandingMinor: Type.Integer(),
  borrowers: Type.Number(),
  fraudAlertRate: Type.Union([Type.Number(), Type.Null()]),
  borrowersWithFraudAlerts: Type.Number(),
  complaints: Type.Number(),
  complaintRate: Type.Union([Type.Number(), Type.Null()]),
  alerts: Type.Optional(Type.Array(ChannelAlert)),
});

export const LineParties = Type.Object({
  fundingMode: Type.String(),
  funders: Type.Array(
    Type.Object({ partnerId: Type.String(), name: Type.String(), shareBps: Type.Number() }),
  ),
  charging: Type.Array(
    Type.Object({
      partnerId: Type.String(),
      name: Type.String(),
      type: Type.String(),
      feeRatePercent: Type.Number(),
    }),
  ),
  text: Type.Object({ zh: Type.String(), en: Type.String() }),
});

export const BookSlice = Type.Object({ loans: Type.Number(), outstandingMinor: Type.Integer() });

export const Vintage = Type.Object({
  month: Type.String(),
  monthsOnBook: Type.Number(),
  loans: Type.Number(),
  principalMinor: Type.Integer(),
  outstandingMinor: Type.Integer(),
  m1PlusRate: Type.Number(),
  m2PlusRate: Type.Number(),
});

/** Complaints or appeals over a window (src/compliance/case-volumes.ts). */
export const CaseVolume = Type.Object({
  received: Type.Integer(),
  receivedByKind: Type.Record(Type.String(), Type.Integer()),
  settled: Type.Record(Type.String(), Type.Integer()),
  settledLate: Type.Integer(),
  openAtEnd: Type.Integer(),
  overdueAtEnd: Type.Integer(),
});

export const PortfolioSnapshot = Type.Object({
  asOf: Type.String(),
  windowDays: Type.Number(),
  lines: Type.Record(Type.String(), Type.Number()),
  openLoans: Type.Number(),
  outstandingMinor: Type.Integer(),
  byBucket: Type.Record(Type.String(), BookSlice),
  byProduct: Type.Record(Type.String(), BookSlice),
  byChannel: Type.Record(Type.String(), BookSlice),
  m1PlusRate: Type.Number(),
  m2PlusRate: Type.Number(),
  rollRates: Type.Record(Type.String(), Type.Number()),
  vintages: Type.Array(Vintage),
  decisions: Type.Object({
    applications: Type.Number(),
    approvalRate: Type.Number(),
    declineRate: Type.Number(),
    reviewRate: Type.Number(),
  }),
  restrictions: Type.Object({
    freezes: Type.Number(),
    suspensions: Type.Number(),
    closures: Type.Number(),
    freezeRate: Type.Number(),
    suspensionRate: Type.Number(),
  }),
  alertsByTypology: Type.Record(Type.String(), Type.Object({ alerts: Type.Number(), closed: Type.Number() })),
  inquiries: Type.Record(Type.String(), Type.Number()),
  score: Type.Object({
    count: Type.Number(),
    psi: Type.Union([Type.Number(), Type.Null()]),
    baselineAsOf: Type.Union([Type.String(), Type.Null()]),
    // Application results no held key opens, left out of count and PSI; present only when there are some.
    unreadable: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
  // Null in snapshots taken before complaints and appeals were counted.
  complaints: Type.Union([CaseVolume, Type.Null()]),
  appeals: Type.Union([CaseVolume, Type.Null()]),
});

export const EarlyWarning = Type.Object({
  asOf: Type.String(),
  alertId: Type.Union([Type.String(), Type.Null()]),
  ruleId: Type.String(),
  value: Type.Number(),
  threshold: Type.Number(),
  detail: Type.Record(Type.String(), Type.Unknown()),
});

export const MonthlyReport = Type.Object({
  month: Type.String(),
  linesByStatus: Type.Array(Type.Object({ status: Type.String(), lines: Type.Number() })),
  loansByBucket: Type.Array(
    Type.Object({ bucket: Type.String(), loans: Type.Number(), outstandingMinor: Type.Integer() }),
  ),
  restrictions: Type.Array(
    Type.Object({
      type: Type.String(),
      reason: Type.String(),
      automated: Type.Boolean(),
      count: Type.Number(),
    }),
  ),
  inquiries: Type.Array(
    Type.Object({ purpose: Type.String(), kind: Type.String(), status: Type.String(), count: Type.Number() }),
  ),
  consents: Type.Object({ granted: Type.Number(), withdrawn: Type.Number() }),
  complaints: CaseVolume,
  appeals: CaseVolume,
});

export const FeeRule = Type.Object({ rateBps: Type.Number(), capMinor: Type.Integer() });

export const ProductTerms = Type.Object({
  name: Type.String(),
  currency: Type.String(),
  rateMin: Type.Number(),
  rateMax: Type.Number(),
  dayCount: Type.Union([Type.Literal('ACT_365'), Type.Literal('ACT_360')]),
  termsMonths: Type.Array(Type.Number()),
  methods: Type.Array(
    Type.Union([
      Type.Literal('EQUAL_INSTALLMENT'),
      Type.Literal('EQUAL_PRINCIPAL'),
      Type.Literal('INTEREST_ONLY'),
      Type.Literal('DAILY_INTEREST'),
    ]),
  ),
  amountMinMinor: Type.Integer(),
  amountMaxMinor: Type.Integer(),
  upfrontFee: FeeRule,
  periodicFee: FeeRule,
  lateFee: Type.Object({ amountMinor: Type.Integer(), capMinor: Type.Integer() }),
  penaltyMultiplier: Type.Number(),
  graceDays: Type.Number(),
  aprCapPercent: Type.Number(),
  prepayment: Type.Union([Type.Literal('REAMORTISE'), Type.Literal('SHORTEN')]),
  forbidLoanRepayment: Type.Boolean(),
});

export const ProductView = Type.Object({
  id: Type.String(),
  version: Type.Number(),
  status: Type.String(),
  terms: ProductTerms,
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

export const Installment = Type.Object({
  period: Type.Number(),
  dueDate: Type.String(),
  principalMinor: Type.Integer(),
  interestMinor: Type.Integer(),
  feeMinor: Type.Integer(),
  totalMinor: Type.Integer(),
  balanceAfterMinor: Type.Integer(),
});

export const EarlyRepaymentCost = Type.Object({
  afterDays: Type.Number(),
  date: Type.String(),
  interestMinor: Type.Integer(),
  payoffMinor: Type.Integer(),
});

export const PrepaymentOption = Type.Object({
  mode: Type.Union([Type.Literal('REAMORTISE'), Type.Literal('SHORTEN')]),
  applies: Type.Boolean(),
  date: Type.String(),
  prepayMinor: Type.Integer(),
  nextInstallmentMinor: Type.Integer(),
  remainingInstallments: Type.Number(),
  interestSavedMinor: Type.Integer(),
});

/** The all-in cost: contract interest, product fees and every charging party's fee, against the product's cap. */
export const AllInBreakdown = Type.Object({
  contractRatePercent: Type.Number(),
  interestMinor: Type.Integer(),
  productFeesMinor: Type.Integer(),
  partnerFees: Type.Array(
    Type.Object({
      partnerId: Type.String(),
      type: Type.String(),
      feeRatePercent: Type.Number(),
      totalMinor: Type.Integer(),
    }),
  ),
  totalCostMinor: Type.Integer(),
  aprPercent: Type.Number(),
  capPercent: Type.Number(),
});

export const QuoteView = Type.Object({
  quoteId: Type.String(),
  lineId: Type.String(),
  amountMinor: Type.Integer(),
  currency: Type.String(),
  termMonths: Type.Number(),
  method: Type.Union([
    Type.Literal('EQUAL_INSTALLMENT'),
    Type.Literal('EQUAL_PRINCIPAL'),
    Type.Literal('INTEREST_ONLY'),
    Type.Literal('DAILY_INTEREST'),
  ]),
  annualRate: Type.Number(),
  dailyRate: Type.Number(),
  dayCount: Type.String(),
  apr: Type.Object({
    CN_IRR: Type.Number(),
    US_REGZ: Type.Number(),
    EU_CCD: Type.Number(),
    simple: Type.Number(),
  }),
  upfrontFeeMinor: Type.Integer(),
  totalInterestMinor: Type.Integer(),
  totalFeesMinor: Type.Integer(),
  totalRepayableMinor: Type.Integer(),
  schedule: Type.Array(Installment),
  earlyRepayment: Type.Union([Type.Array(EarlyRepaymentCost), Type.Null()]),
  prepayment: Type.Union([Type.String(), Type.Null()]),
  prepaymentOptions: Type.Union([Type.Array(PrepaymentOption), Type.Null()]),
  keyFacts: Type.Object({ zh: Type.String(), en: Type.String() }),
  allIn: AllInBreakdown,
  createdAt: Type.String(),
  validUntil: Type.String(),
});

export const StrategyListing = Type.Object({
  decidingVersion: Type.Union([Type.Number(), Type.Null()]),
  id: Type.String(),
  name: Type.String(),
  activeVersion: Type.Union([Type.Number(), Type.Null()]),
  latestVersion: Type.Number(),
  updatedAt: Type.Number(),
});

export const InputDecl = Type.Object({
  name: Type.String(),
  type: Type.Union([
    Type.Literal('string'),
    Type.Literal('number'),
    Type.Literal('boolean'),
    Type.Literal('date'),
    Type.Literal('integer'),
    Type.Literal('string[]'),
  ]),
  required: Type.Optional(Type.Boolean()),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  allowed: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]))),
  description: Type.Optional(Type.String()),
});

export const ParamDecl = Type.Object({
  default: Type.Union([Type.Boolean(), Type.String(), Type.Number()]),
  description: Type.Optional(Type.String()),
});

export const ActionDoc = Type.Object({
  type: LineActionType,
  limit: Type.Optional(Type.String()),
  rate: Type.Optional(Type.String()),
  reasons: Type.Optional(Type.Array(Type.String())),
});

export const RuleDoc = Type.Object({
  id: Type.String(),
  when: Type.String(),
  points: Type.Optional(Type.Number()),
  description: Type.Optional(Type.String()),
  outcome: Type.Optional(Outcome),
  reasons: Type.Optional(Type.Array(Type.String())),
  reasonsFrom: Type.Optional(Type.String()),
  actions: Type.Optional(Type.Array(ActionDoc)),
});

export const ScoreBand = Type.Object({
  min: Type.Number(),
  outcome: Type.Optional(Outcome),
  reasons: Type.Optional(Type.Array(Type.String())),
  reasonsFrom: Type.Optional(Type.String()),
  actions: Type.Optional(Type.Array(ActionDoc)),
});

export const TableRow = Type.Object({
  id: Type.Optional(Type.String()),
  when: Type.Array(CellValue),
  then: Type.Optional(Type.Array(OutputValue)),
  outcome: Type.Optional(Outcome),
  reasons: Type.Optional(Type.Array(Type.String())),
  reasonsFrom: Type.Optional(Type.String()),
  actions: Type.Optional(Type.Array(ActionDoc)),
});

export const ScorecardFeature = Type.Object({
  name: Type.String(),
  input: Type.Optional(Type.String()),
  reason: Type.String(),
  bins: Type.Array(
    Type.Object({
      when: CellValue,
      points: Type.Number(),
    }),
  ),
});

export const MatrixDoc = Type.Object({
  output: Type.String(),
  row: Type.String(),
  rowBins: Type.Array(CellValue),
  col: Type.String(),
  colBins: Type.Array(CellValue),
  cells: Type.Array(Type.Array(Type.Union([Type.String(), Type.Number()]))),
});

export const StrategyDocument = Type.Object({
  id: Type.String(),
  version: Type.Optional(Type.Number()),
  name: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  inputs: Type.Array(InputDecl),
  params: Type.Optional(Type.Record(Type.String(), ParamDecl)),
  outcomePrecedence: Type.Optional(Type.Array(Outcome)),
  defaultOutcome: Type.Optional(Outcome),
  stopOn: Type.Optional(Type.Array(Outcome)),
  nodes: Type.Array(
    Type.Object({
      type: Type.Union([
        Type.Literal('ruleSet'),
        Type.Literal('decisionTable'),
        Type.Literal('scorecard'),
        Type.Literal('model'),
        Type.Literal('assign'),
        Type.Literal('branch'),
        Type.Literal('split'),
        Type.Literal('shadow'),
      ]),
      mode: Type.Optional(
        Type.Union([Type.Literal('first-hit'), Type.Literal('all'), Type.Literal('score-sum')]),
      ),
      rules: Type.Optional(Type.Array(RuleDoc)),
      output: Type.Optional(Type.String()),
      bands: Type.Optional(Type.Array(ScoreBand)),
      id: Type.String(),
      description: Type.Optional(Type.String()),
      next: Type.Optional(Type.String()),
      hitPolicy: Type.Optional(
        Type.Union([Type.Literal('first'), Type.Literal('unique'), Type.Literal('collect')]),
      ),
      inputs: Type.Optional(Type.Array(Type.String())),
      outputs: Type.Optional(Type.Array(Type.String())),
      rows: Type.Optional(Type.Array(TableRow)),
      default: Type.Optional(
        Type.Object({
          then: Type.Optional(Type.Array(OutputValue)),
          outcome: Type.Optional(Outcome),
          reasons: Type.Optional(Type.Array(Type.String())),
          actions: Type.Optional(Type.Array(ActionDoc)),
          reasonsFrom: Type.Optional(Type.String()),
        }),
      ),
      aggregate: Type.Optional(
        Type.Union([
          Type.Literal('count'),
          Type.Literal('list'),
          Type.Literal('sum'),
          Type.Literal('max'),
          Type.Literal('min'),
        ]),
      ),
      pdOutput: Type.Optional(Type.String()),
      base: Type.Optional(Type.Number()),
      features: Type.Optional(Type.Array(ScorecardFeature)),
      modelRef: Type.Optional(Type.Object({ id: Type.String(), version: Type.Optional(Type.Number()) })),
      modelInputs: Type.Optional(Type.Record(Type.String(), Type.String())),
      reasonCount: Type.Optional(Type.Number()),
      matrices: Type.Optional(Type.Array(MatrixDoc)),
      values: Type.Optional(Type.Record(Type.String(), Type.String())),
      limit: Type.Optional(Type.String()),
      rate: Type.Optional(Type.String()),
      branches: Type.Optional(Type.Array(Type.Object({ when: Type.String(), next: Type.String() }))),
      otherwise: Type.Optional(Type.String()),
      arms: Type.Optional(
        Type.Array(Type.Object({ name: Type.String(), percent: Type.Number(), next: Type.String() })),
      ),
      strategy: Type.Optional(Type.String()),
    }),
  ),
});

export const StrategyVersionRecord = Type.Object({
  strategyId: Type.String(),
  version: Type.Number(),
  status: Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('retired')]),
  document: StrategyDocument,
  createdBy: Type.String(),
  createdAt: Type.Number(),
  activatedBy: Type.Union([Type.String(), Type.Null()]),
  activatedAt: Type.Union([Type.Number(), Type.Null()]),
});

export const AffectedSubject = Type.Object({
  decisionId: Type.String(),
  borrowerId: Type.Union([Type.String(), Type.Null()]),
  lineId: Type.Union([Type.String(), Type.Null()]),
  before: Outcome,
  after: Outcome,
  reasonsAfter: Type.Array(Type.String()),
});

export const ParameterChange = Type.Object({
  name: Type.String(),
  before: Type.Union([Type.Boolean(), Type.String(), Type.Number(), Type.Null()]),
  after: Type.Union([Type.Boolean(), Type.String(), Type.Number(), Type.Null()]),
  overlaidReplays: Type.Number(),
});

/** Counts by outcome; the matrix is one such row per outcome before. */
const OutcomeCounts = Type.Object({
  APPROVE: Type.Number(),
  DECLINE: Type.Number(),
  REVIEW: Type.Number(),
  CHALLENGE: Type.Number(),
  COOLDOWN: Type.Number(),
  HOLD: Type.Number(),
});

const OutcomeMatrix = Type.Object({
  APPROVE: OutcomeCounts,
  DECLINE: OutcomeCounts,
  REVIEW: OutcomeCounts,
  CHALLENGE: OutcomeCounts,
  COOLDOWN: OutcomeCounts,
  HOLD: OutcomeCounts,
});

/** The before/after figures of a simulation: the final outcomes at the top level, the strategy's own in `strategy`. */
const SimulationFigures = {
  changed: Type.Number(),
  outcomeMatrix: OutcomeMatrix,
  approvalRate: Type.Object({ before: Type.Number(), after: Type.Number() }),
  freezeRate: Type.Object({ before: Type.Number(), after: Type.Number() }),
  limitTotalMinor: Type.Object({ before: Type.Number(), after: Type.Number() }),
  reasonShifts: Type.Array(
    Type.Object({ code: Type.String(), before: Type.Number(), after: Type.Number(), delta: Type.Number() }),
  ),
  newlyDeclined: Type.Array(AffectedSubject),
  newlyFrozen: Type.Array(AffectedSubject),
};

export const SimulationReport = Type.Object({
  strategyId: Type.String(),
  candidateVersion: Type.Union([Type.Number(), Type.Null()]),
  from: Type.Number(),
  to: Type.Number(),
  decisions: Type.Number(),
  contextErrors: Type.Number(),
  missingFacts: Type.Object(
    {
      count: Type.Integer(),
      inputs: Type.Record(Type.String(), Type.Integer()),
      decisionIds: Type.Array(Type.String()),
      handling: Type.Literal('excluded'),
    },
    {
      description:
        'stored decisions that lack an input the candidate declares and their deciding version did not (recorded ' +
        'before every fact the core computed was recorded, or a fact not computed then): not replayed, in none of ' +
        'the figures (handling: excluded); per input how many lack it; their ids oldest first, cut at subjectsMax',
    },
  ),
  engineErrors: Type.Object({ before: Type.Number(), after: Type.Number() }),
  ...SimulationFigures,
  strategy: Type.Object(SimulationFigures, {
    description: "the strategy's own outcomes, before the core's rules (hard rules, consent gate, caps)",
  }),
  coreRules: Type.Object(
    {
      before: Type.Number(),
      after: Type.Number(),
      notReplayable: Type.Number(),
      unrecorded: Type.Number(),
    },
    {
      description:
        "replays whose outcome or limit the core's rules changed (before: as stored; after: the candidate's); " +
        'candidate outcomes a rule could not be replayed on; decisions stored before the core recorded its rules',
    },
  ),
  parameterChanges: Type.Array(ParameterChange),
  unreadable: Type.Object(
    { count: Type.Integer(), decisionIds: Type.Array(Type.String()) },
    {
      description:
        'stored decisions of the period whose sealed inputs no data key held opens (LG_SEALED_DATA_UNREADABLE): ' +
        'not replayed, in none of the figures; their ids oldest first, cut at subjectsMax',
    },
  ),
  truncated: Type.Boolean(),
});

export const RequestedLineAction = Type.Object({
  type: LineActionType,
  limitMinor: Type.Optional(Type.Integer()),
  annualRate: Type.Optional(Type.Number()),
  reasons: Type.Array(Type.String()),
});

export const TraceStep = Type.Object(
  {
    node: Type.String(),
    kind: Type.String(),
    detail: Type.String(),
    fired: Type.Optional(Type.Array(Type.String())),
    inputs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    values: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    overlays: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);

export const Decision = Type.Object({
  strategyId: Type.String(),
  strategyVersion: Type.Number(),
  engineVersion: Type.String(),
  outcome: Outcome,
  reasons: Type.Array(Type.String()),
  limitMinor: Type.Optional(Type.Integer()),
  annualRate: Type.Optional(Type.Number()),
  actions: Type.Array(RequestedLineAction),
  values: Type.Record(Type.String(), Type.Unknown()),
  trace: Type.Array(TraceStep),
  shadows: Type.Optional(
    Type.Array(
      Type.Object({
        strategyId: Type.String(),
        strategyVersion: Type.Number(),
        outcome: Outcome,
        reasons: Type.Array(Type.String()),
      }),
    ),
  ),
  engineError: Type.Optional(Type.Boolean()),
});

export const StoredDecision = Type.Object({
  strategyId: Type.String(),
  strategyVersion: Type.Number(),
  engineVersion: Type.String(),
  id: Type.String(),
  kind: Type.Union([
    Type.Literal('application'),
    Type.Literal('draw'),
    Type.Literal('review'),
    Type.Literal('event'),
    Type.Literal('simulation'),
  ]),
  borrowerId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  lineId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  subjectKey: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  context: Type.Record(Type.String(), Type.Unknown(), {
    description: 'the inputs the strategy saw, as sent and as read',
  }),
  decision: Decision,
  latencyMs: Type.Number(),
  decidedAt: Type.Number(),
  coreRules: Type.Optional(
    Type.Object(
      {
        final: Type.Object({
          outcome: Outcome,
          reasons: Type.Array(Type.String()),
          limitMinor: Type.Union([Type.Number(), Type.Null()]),
        }),
        hard: Type.Optional(Type.Array(Type.String())),
        referral: Type.Optional(Type.String()),
        roomMinor: Type.Optional(Type.Number()),
        priced: Type.Optional(
          Type.Object({
            annualRate: Type.Union([Type.Number(), Type.Null()]),
            upfrontFeeMinor: Type.Union([Type.Number(), Type.Null()]),
            periodicFeeMinor: Type.Union([Type.Number(), Type.Null()]),
            refused: Type.Boolean(),
          }),
        ),
      },
      {
        description:
          "what the core did to the strategy's decision before answering (an application's or a draw's): `final` is " +
          'the answer; hard rules, the bureau referral, the room under the borrower cap, the APR check of a priced draw',
      },
    ),
  ),
});

export const OverlayInForce = Type.Object({
  inForce: Type.Boolean(),
  name: Type.String(),
  value: Type.Union([Type.Boolean(), Type.String(), Type.Number()]),
  description: Type.Union([Type.String(), Type.Null()]),
  updatedBy: Type.String(),
  updatedAt: Type.Number(),
});

export const OverlayDeclaration = Type.Object({
  name: Type.String(),
  type: Type.Union([Type.Literal('number'), Type.Literal('integer')]),
  min: Type.Number(),
  max: Type.Number(),
  description: Type.String(),
});

export const Overlay = Type.Object({
  name: Type.String(),
  value: Type.Union([Type.Boolean(), Type.String(), Type.Number()]),
  description: Type.Union([Type.String(), Type.Null()]),
  updatedBy: Type.String(),
  updatedAt: Type.Number(),
});

export const OverlayChange = Type.Object({
  name: Type.String(),
  value: Type.Union([Type.Boolean(), Type.String(), Type.Number()]),
  previousValue: Type.Union([Type.Boolean(), Type.String(), Type.Number(), Type.Null()]),
  changedBy: Type.String(),
  changedAt: Type.Number(),
});

/** A key's or a user's role, as every answer names it (src/api/types.ts ROLES). */
export const RoleName = Type.Union([
  Type.Literal('admin'),
  Type.Literal('risk_analyst'),
  Type.Literal('analyst'),
  Type.Literal('supervisor'),
  Type.Literal('service'),
  Type.Literal('auditor'),
  Type.Literal('partner'),
]);

export const UserView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleName,
  createdAt: Type.String(),
  disabled: Type.Boolean(),
});

/** 202: the change waits for a second person (four eyes); approve it at POST /v1/changes/{id}/approve. */
export const PendingChangeAnswer = Type.Object({ pendingChange: PendingChangeView });

/** What an appeal shows besides the borrower's and the reviewer's words (stored in clear). */
const AppealHeader = {
  id: Type.String(),
  lineId: Type.Union([Type.String(), Type.Null()]),
  target: Type.Object({ kind: Type.String(), id: Type.String() }),
  state: Type.String(),
  deadline: Type.String(),
  createdAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
};

export const AppealView = Type.Object({
  ...AppealHeader,
  outcome: Type.Union([
    Type.Object({
      zh: Type.String(),
      en: Type.Union([Type.String(), Type.Null()]),
      text: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    }),
    Type.Null(),
  ]),
  documents: Type.Unknown(),
});

/** An appeal in a list that cannot be opened: what is in clear, marked, without the documents and the outcome. */
export const UnreadableAppealView = Type.Object(
  { ...AppealHeader, unreadable: Type.Literal(true) },
  {
    description:
      'an appeal whose sealed text and documents, or outcome, no data key held opens (LG_SEALED_DATA_UNREADABLE): ' +
      'what is stored in clear, without the documents or the outcome; read on its own it answers 500',
  },
);

/** An appeal as a list shows it: readable, or marked unreadable (the list never fails for one it cannot open). */
export const AppealListItem = Type.Union([AppealView, UnreadableAppealView]);

/** What a complaint shows besides the borrower's and the lender's words (stored in clear). */
const ComplaintHeader = {
  id: Type.String(),
  category: Type.String(),
  state: Type.String(),
  dueAt: Type.String(),
  extended: Type.Boolean(),
  createdAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
};

export const ComplaintView = Type.Object({
  ...ComplaintHeader,
  extensionReason: Type.Union([Type.String(), Type.Null()]),
  resolution: Type.Union([
    Type.Object({
      zh: Type.String(),
      en: Type.Union([Type.String(), Type.Null()]),
      text: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    }),
    Type.Null(),
  ]),
});

/** A complaint in a list that cannot be opened: what is in clear, marked, without the reason and the resolution. */
export const UnreadableComplaintView = Type.Object(
  { ...ComplaintHeader, unreadable: Type.Literal(true) },
  {
    description:
      'a complaint whose sealed text, extension reason or resolution no data key held opens (LG_SEALED_DATA_UNREADABLE): ' +
      'what is stored in clear, without the reason or the resolution; read on its own it answers 500',
  },
);

/** A complaint as a list shows it: readable, or marked unreadable (the list never fails for one it cannot open). */
export const ComplaintListItem = Type.Union([ComplaintView, UnreadableComplaintView]);

export const CaseDetail = Type.Object({
  notes: Type.Array(
    Type.Object({
      id: Type.String(),
      author: Type.String(),
      // null (with `unreadable`) for a note whose sealed text no data key held opens.
      text: Type.Union([Type.String(), Type.Null()]),
      at: Type.String(),
      unreadable: Type.Optional(Type.String()),
    }),
  ),
  history: Type.Array(
    Type.Object({ seq: Type.Number(), kind: Type.String(), payload: Type.Unknown(), at: Type.String() }),
  ),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  ...CaseView.properties,
});

/** A case outcome: applied (200), or escalated to a second person with the pending change (202). */
export const ResolveResult = Type.Object({
  state: Type.Union([Type.Literal('RESOLVED'), Type.Literal('ESCALATED')]),
  case: CaseView,
  pendingChange: Type.Optional(PendingChangeView),
});

/** The borrower's own explanation: the line's explanation, the appeal in progress if any, and the open appeals. */
export const MyLineExplanation = Type.Object({
  ...LineExplanation.properties,
  appeal: Type.Object({
    ...LineExplanation.properties.appeal.properties,
    inProgress: Type.Optional(Type.Boolean()),
  }),
  openAppeals: Type.Array(AppealListItem),
});

/** What a dispute shows besides the borrower's claim and text and the reviewer's outcome (stored in clear). */
const DisputeHeader = {
  id: Type.String(),
  caseId: Type.String(),
  target: Type.Object({
    kind: Type.String({ description: 'INQUIRY, DELINQUENCY_REPORT or REPORT_ITEM' }),
    id: Type.String(),
  }),
  state: Type.String({ description: 'OPEN, CORRECTED or REJECTED' }),
  dueAt: Type.String(),
  correctionId: Type.Union([Type.String(), Type.Null()]),
  raisedBy: Type.String(),
  createdAt: Type.String(),
  resolvedAt: Type.Union([Type.String(), Type.Null()]),
};

/** A credit-report dispute (异议): what is disputed, the claim, the 20-day deadline and the decision once made. */
export const DisputeView = Type.Object({
  ...DisputeHeader,
  claim: Type.Object({
    correctValue: Type.Optional(
      Type.Union([Type.Number(), Type.Boolean()], {
        description: 'a REPORT_ITEM dispute: the value stated right',
      }),
    ),
  }),
  text: Type.String(),
  outcome: Type.Union(
    [
      Type.Object({
        zh: Type.Union([Type.String(), Type.Null()]),
        en: Type.Union([Type.String(), Type.Null()]),
      }),
      Type.Null(),
    ],
    { description: "the reviewer's words once decided; null while open" },
  ),
});

/** A dispute in a list that cannot be opened: what is in clear, marked, without the claim, text and outcome. */
export const UnreadableDisputeView = Type.Object(
  {
    ...DisputeHeader,
    unreadable: Type.Literal(true),
  },
  {
    description:
      'a dispute whose sealed claim and text, or outcome, no data key held opens (LG_SEALED_DATA_UNREADABLE): what ' +
      'is stored in clear, without the claim, the text or the outcome; read on its own it answers 500',
  },
);

/** A dispute as a list shows it: readable, or marked unreadable (the list never fails for one it cannot open). */
export const DisputeListItem = Type.Union([DisputeView, UnreadableDisputeView]);

/** A notice that an overdue loan will be reported to the credit bureau (征信业管理条例 Art. 15), and whether it was. */
export const BureauNoticeView = Type.Object({
  id: Type.String(),
  loanId: Type.String(),
  lineId: Type.String(),
  bucket: Type.String(),
  dpd: Type.Number(),
  text: Type.Object({ zh: Type.String(), en: Type.String() }),
  notifiedAt: Type.String(),
  reportAfter: Type.String(),
  status: Type.String({ description: 'NOTIFIED, REPORTED or CURED (repaid in time: not reported)' }),
  reportedAt: Type.Union([Type.String(), Type.Null()]),
});
