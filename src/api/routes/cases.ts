import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import { UUID_PATTERN } from '../../domain/index.js';
import { LgError } from '../../domain/index.js';
import type { CoreServices } from '../../core/index.js';
import { CASE_STATES, CASE_TYPES, type CaseService, type ResolveResult } from '../../cases/index.js';
import {
  actorOf,
  CASE_WORKERS,
  CHECKERS,
  partyOf,
  WRITERS,
  type Role,
  typed,
  type TypedApp,
} from '../types.js';
import { parseInstant } from '../instants.js';
import { answeringGuard } from '../idempotency.js';

/** The case queues, outcomes and four-eyes changes over HTTP (issue 11). */
export interface CaseRoutesDeps {
  readonly cases: CaseService;
  readonly core: () => CoreServices;
}

const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
type IdParams = Static<typeof IdParams>;
const Literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const ReasonList = Type.Array(Type.String({ pattern: '^R_[A-Z0-9_]+$' }), { minItems: 1, maxItems: 8 });
const Note = Type.String({ minLength: 1, maxLength: 2000 });
const PageLimit = Type.Integer({ minimum: 1, maximum: 500 });

const QueueQuery = Type.Object(
  {
    type: Type.Optional(Literals(CASE_TYPES)),
    state: Type.Optional(Literals(CASE_STATES)),
    assignee: Type.Optional(Type.String({ pattern: UUID_PATTERN })),
    lineId: Type.Optional(Type.String({ pattern: UUID_PATTERN })),
    borrowerId: Type.Optional(Type.String({ pattern: UUID_PATTERN })),
    dueBefore: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(PageLimit),
    cursor: Type.Optional(Type.String({ pattern: UUID_PATTERN })),
  },
  { additionalProperties: false },
);
type QueueQuery = Static<typeof QueueQuery>;

const StatsQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
type StatsQuery = Static<typeof StatsQuery>;

const AssignBody = Type.Object(
  {
    assignee: Type.Optional(
      Type.String({ pattern: UUID_PATTERN, description: 'user id; default: yourself' }),
    ),
  },
  { additionalProperties: false },
);
const MoveBody = Type.Object(
  { to: Literals(['OPEN', 'PENDING_CUSTOMER', 'ESCALATED'] as const), note: Type.Optional(Note) },
  { additionalProperties: false },
);
const NoteBody = Type.Object({ text: Note }, { additionalProperties: false });
const ResolveBody = Type.Object(
  {
    outcome: Type.String({ pattern: '^[A-Z_]{2,32}$', description: 'per case type, see OUTCOMES_BY_TYPE' }),
    note: Type.Optional(Note),
    reasons: Type.Optional(ReasonList),
    limitMinor: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    annualRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    textZh: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    textEn: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);
type ResolveBody = Static<typeof ResolveBody>;
const ExtendBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
const ChangesQuery = Type.Object(
  {
    state: Type.Optional(Literals(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'FAILED'] as const)),
    limit: Type.Optional(PageLimit),
    cursor: Type.Optional(Type.String({ pattern: UUID_PATTERN })),
  },
  { additionalProperties: false },
);
const DecideBody = Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false });
const RejectBody = Type.Object({ note: Note }, { additionalProperties: false });
const ChallengeBody = Type.Object(
  { result: Literals(['PASSED', 'FAILED'] as const) },
  { additionalProperties: false },
);
const StopBody = Type.Object(
  { why: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);

const CASE_READERS: readonly Role[] = [...CASE_WORKERS, 'auditor'];
const tags = ['cases'];

export function caseRoutes(deps: CaseRoutesDeps): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    caseQueueRoutes(app, deps);
    caseWorkRoutes(app, deps);
    caseResolutionRoutes(app, deps);
    pendingChangeRoutes(app, deps);
    heldDrawRoutes(app, deps);
  };
}

/** The case queues: list, stats, and one case. */
function caseQueueRoutes(app: TypedApp, deps: CaseRoutesDeps): void {
  const { cases } = deps;
  app.get(
    '/v1/cases',
    {
      config: { roles: CASE_READERS },
      schema: {
        tags,
        summary: 'The queue: filter by type, state, assignee, line, borrower, due time; newest first',
        querystring: QueueQuery,
        response: {
          200: Type.Object({
            items: Type.Array(R.CaseView),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return cases.list({
        type: q.type,
        state: q.state,
        assignee: q.assignee,
        lineId: q.lineId,
        borrowerId: q.borrowerId,
        dueBefore: parseInstant(q.dueBefore, 'dueBefore'),
        limit: q.limit ?? 50,
        before: q.cursor,
      });
    },
  );

  app.get(
    '/v1/cases/stats',
    {
      config: { roles: CASE_READERS },
      schema: {
        tags,
        summary:
          'Per typology and rule: alerts, dispositions, false-positive rate; per type: time to resolve vs SLA',
        querystring: StatsQuery,
        response: { 200: R.CaseStats, ...R.READ_ERRORS },
      },
    },
    async (request) =>
      cases.stats({
        from: parseInstant(request.query.from, 'from') ?? 0,
        to: parseInstant(request.query.to, 'to') ?? Number.MAX_SAFE_INTEGER,
      }),
  );

  app.get(
    '/v1/cases/:id',
    {
      config: { roles: CASE_READERS },
      schema: {
        tags,
        summary: 'A case with notes, history and evidence',
        params: IdParams,
        response: { 200: R.CaseDetail, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => cases.get(request.params.id),
  );
}

/** Working a case: assign it, move its state, add notes. */
function caseWorkRoutes(app: TypedApp, deps: CaseRoutesDeps): void {
  const { cases } = deps;
  app.post(
    '/v1/cases/:id/assign',
    {
      config: { roles: CASE_WORKERS, idempotent: true },
      schema: {
        tags,
        summary: 'Assign the case (to yourself by default)',
        params: IdParams,
        body: AssignBody,
        response: { 200: R.CaseView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      const assignee = request.body.assignee ?? request.principal?.userId;
      if (!assignee) throw new LgError('LG_VALIDATION', 'name an assignee: your key belongs to no user');
      // The answer is stored with the idempotency key in the assignment's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(
        await cases.assign(request.params.id, { assignee, actor: actorOf(request) }, answer.guard),
      );
    },
  );

  app.post(
    '/v1/cases/:id/state',
    {
      // personalData: the request may hold a note (free text about the borrower, sealed at rest as a case note).
      config: { roles: CASE_WORKERS, idempotent: true, personalData: true },
      schema: {
        tags,
        summary: 'Move the case: OPEN (unassign), PENDING_CUSTOMER, ESCALATED',
        params: IdParams,
        body: MoveBody,
        response: { 200: R.CaseView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the move's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(
        await cases.move(request.params.id, { ...request.body, actor: actorOf(request) }, answer.guard),
      );
    },
  );

  app.post(
    '/v1/cases/:id/notes',
    {
      // personalData: the request and the 201 hold the note, free text about the borrower (sealed at rest).
      config: { roles: CASE_WORKERS, idempotent: true, personalData: true },
      schema: {
        tags,
        summary: 'Add a note',
        params: IdParams,
        body: NoteBody,
        response: {
          201: Type.Object({
            id: Type.String(),
            author: Type.String(),
            text: Type.String(),
            at: Type.String(),
          }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the note's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(
        await cases.note(
          request.params.id,
          { text: request.body.text, actor: actorOf(request) },
          answer.guard,
        ),
      );
    },
  );
}

/** Ending or prolonging a case: resolve it, extend its deadline. */
function caseResolutionRoutes(app: TypedApp, deps: CaseRoutesDeps): void {
  const { cases } = deps;
  app.post(
    '/v1/cases/:id/resolve',
    {
      // personalData: the request holds the reviewer's words to the borrower (an appeal's outcome, a resolution).
      config: { roles: CASE_WORKERS, idempotent: true, personalData: true },
      schema: {
        tags,
        summary:
          'Resolve with an outcome that acts through the core; 202 when a second person must approve it',
        params: IdParams,
        body: ResolveBody,
        response: {
          200: R.ResolveResult,
          202: R.ResolveResult,
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      // The answer (200 resolved, 202 waiting on a second person) is stored with the idempotency key in the
      // resolution's own transaction, before the reply.
      const answer = answeringGuard(request, reply, (r: ResolveResult) =>
        r.state === 'RESOLVED' ? 200 : 202,
      );
      return answer.send(
        await cases.resolve(request.params.id, request.body, partyOf(request), answer.guard),
      );
    },
  );

  app.post(
    '/v1/cases/:id/extend',
    {
      // personalData: the request and the answer hold the reason for the extension.
      config: { roles: CASE_WORKERS, idempotent: true, personalData: true },
      schema: {
        tags,
        summary: 'Extend a complaint deadline once by 15 days, with a reason',
        params: IdParams,
        body: ExtendBody,
        response: { 200: R.ComplaintView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the extension's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(
        await cases.extendComplaint(
          request.params.id,
          { reason: request.body.reason, actor: actorOf(request) },
          answer.guard,
        ),
      );
    },
  );
}

/** Four-eyes pending changes: list, read, approve, reject. */
function pendingChangeRoutes(app: TypedApp, deps: CaseRoutesDeps): void {
  const { cases } = deps;
  app.get(
    '/v1/changes',
    {
      config: { roles: CASE_READERS },
      schema: {
        tags: ['changes'],
        summary: 'Pending changes (four eyes), newest first',
        querystring: ChangesQuery,
        response: {
          200: Type.Object({
            items: Type.Array(R.PendingChangeView),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async (request) =>
      cases.fourEyes.list({
        state: request.query.state,
        limit: request.query.limit ?? 50,
        before: request.query.cursor,
      }),
  );

  app.get(
    '/v1/changes/:id',
    {
      config: { roles: CASE_READERS },
      schema: {
        tags: ['changes'],
        summary: 'One pending change',
        params: IdParams,
        response: { 200: R.PendingChangeView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => cases.fourEyes.get(request.params.id),
  );

  app.post(
    '/v1/changes/:id/approve',
    {
      // personalData: the 200 holds what the change proposed (an appeal's outcome texts) and the checker's note.
      config: { roles: CHECKERS, idempotent: true, personalData: true },
      schema: {
        tags: ['changes'],
        summary: 'Approve and apply a pending change (a different person from its maker)',
        params: IdParams,
        body: DecideBody,
        response: { 200: R.PendingChangeView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // Stored with the key in the approval's transaction when the change is applied there; an operation applied
      // after the approval commits (a strategy, a list entry) has its answer stored after it (FourEyes.approve).
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(
        await cases.fourEyes.approve(request.params.id, partyOf(request), request.body.note, answer.guard),
      );
    },
  );

  app.post(
    '/v1/changes/:id/reject',
    {
      // personalData: the request holds the checker's note, the 200 what the change proposed.
      config: { roles: CHECKERS, idempotent: true, personalData: true },
      schema: {
        tags: ['changes'],
        summary: 'Reject a pending change, with a note',
        params: IdParams,
        body: RejectBody,
        response: { 200: R.PendingChangeView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the rejection's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(
        await cases.fourEyes.reject(request.params.id, partyOf(request), request.body.note, answer.guard),
      );
    },
  );
}

/** A held draw: the step-up challenge result, or stopping it. */
function heldDrawRoutes(app: TypedApp, deps: CaseRoutesDeps): void {
  const { cases } = deps;
  app.post(
    '/v1/draws/:id/challenge',
    {
      config: { roles: WRITERS, idempotent: true },
      schema: {
        tags: ['loans'],
        summary:
          'The step-up result for a CHALLENGE draw: PASSED releases it, FAILED cancels it and opens a case',
        params: IdParams,
        body: ChallengeBody,
        response: {
          200: Type.Object({
            drawId: Type.String(),
            status: Type.String(),
            loanId: Type.Optional(Type.String()),
            caseId: Type.Optional(Type.String()),
          }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the step-up result's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(
        await cases.challenge(
          request.params.id,
          { result: request.body.result, actor: actorOf(request) },
          answer.guard,
        ),
      );
    },
  );

  app.post(
    '/v1/draws/:id/stop',
    {
      config: { roles: CASE_WORKERS, idempotent: true },
      schema: {
        tags: ['loans'],
        summary: 'Stop a COOLDOWN draw: it becomes HOLD and a held-draw case',
        params: IdParams,
        body: StopBody,
        response: { 200: Type.Object({ drawId: Type.String(), status: Type.String() }), ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the stop's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(
        await cases.stopCooldown(
          request.params.id,
          { actor: actorOf(request), why: request.body.why },
          answer.guard,
        ),
      );
    },
  );
}
