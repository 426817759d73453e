import { Type } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import { UUID_PATTERN } from '../../domain/index.js';
import { CHECKPOINTS_LIST_MAX, type LedgerEvidence } from '../../compliance/index.js';
import { BORROWERS, READERS, typed, type TypedApp } from '../types.js';
import { answeringGuard } from '../idempotency.js';
import { LgError } from '../../domain/index.js';

/**
 * Evidence a third party can check: signed checkpoints, inclusion and consistency proofs (RFC 9162). Reading them
 * is open to every role, auditors included; what they prove does not depend on trusting this server.
 */
const tags = ['ledger'];
const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Seq = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

const CheckpointsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CHECKPOINTS_LIST_MAX })),
    afterSize: Type.Optional(Size),
  },
  { additionalProperties: false },
);
const SeqParams = Type.Object({ seq: Seq });
const ProofQuery = Type.Object({ treeSize: Type.Optional(Seq) }, { additionalProperties: false });
const ConsistencyQuery = Type.Object({ from: Size, to: Size }, { additionalProperties: false });
const DecisionParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });

export function ledgerRoutes(evidence: LedgerEvidence): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    ledgerCheckpointRoutes(app, evidence);
    ledgerProofRoutes(app, evidence);
  };
}

/** The signing key and the signed checkpoints: list them, make one. */
function ledgerCheckpointRoutes(app: TypedApp, evidence: LedgerEvidence): void {
  app.get(
    '/v1/ledger/key',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'The Ed25519 public key that signs checkpoints (raw base64 and PEM)',
        response: {
          200: Type.Object({ keyId: Type.String(), ed25519: Type.String(), pem: Type.String() }),
          ...R.READ_ERRORS,
        },
      },
    },
    async () => ({
      keyId: evidence.publicKey.keyId,
      ed25519: evidence.publicKey.rawBase64,
      pem: evidence.publicKey.pem,
    }),
  );

  app.get(
    '/v1/ledger/checkpoints',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Signed checkpoints (tree size, root, time), oldest first; poll with afterSize',
        querystring: CheckpointsQuery,
        response: { 200: Type.Object({ checkpoints: Type.Array(R.SignedCheckpoint) }), ...R.READ_ERRORS },
      },
    },
    async (request) => ({
      checkpoints: await evidence.listCheckpoints({
        limit: request.query.limit,
        afterSize: request.query.afterSize,
      }),
    }),
  );

  app.post(
    '/v1/ledger/checkpoints',
    {
      config: { roles: ['admin', 'auditor'], idempotent: true },
      schema: {
        tags,
        summary: 'Sign and publish a checkpoint of the ledger as it is now',
        response: { 201: R.SignedCheckpoint, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the checkpoint's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(await evidence.checkpoint(answer.guard));
    },
  );
}

/** Proofs: an entry's inclusion, consistency between two sizes, a decision's proof (the borrower's own too). */
function ledgerProofRoutes(app: TypedApp, evidence: LedgerEvidence): void {
  app.get(
    '/v1/ledger/entries/:seq/proof',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Inclusion proof of a ledger entry in a signed checkpoint (RFC 9162 audit path)',
        params: SeqParams,
        querystring: ProofQuery,
        response: { 200: R.InclusionProof, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => evidence.inclusionProof(request.params.seq, request.query.treeSize),
  );

  app.get(
    '/v1/ledger/consistency',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Consistency proof between two checkpoints: the later ledger extends the earlier one',
        querystring: ConsistencyQuery,
        response: { 200: R.ConsistencyProof, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => evidence.consistency(request.query.from, request.query.to),
  );

  app.get(
    '/v1/decisions/:id/proof',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary:
          "A decision's ledger entry with its inclusion proof and signed checkpoint (verifies offline)",
        params: DecisionParams,
        response: { 200: R.InclusionProof, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => evidence.decisionProof(request.params.id),
  );

  app.get(
    '/v1/me/decisions/:id/proof',
    {
      config: { roles: BORROWERS },
      schema: {
        tags: ['me'],
        summary: 'A proof of your own decision: its ledger entry, inclusion proof and signed checkpoint',
        params: DecisionParams,
        response: { 200: R.InclusionProof, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => {
      const proof = await evidence.decisionProof(request.params.id).catch(() => undefined);
      // Someone else's decision answers exactly as a missing one does: 404, never 403.
      if (!proof || decisionBorrower(proof.entry.payload) !== request.principal?.borrowerId)
        throw new LgError('LG_NOT_FOUND', `no decision '${request.params.id}'`);
      return proof;
    },
  );
}

function decisionBorrower(payload: string): string | null {
  const parsed = JSON.parse(payload) as { borrowerId?: unknown };
  return typeof parsed.borrowerId === 'string' ? parsed.borrowerId : null;
}
