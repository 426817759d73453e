import type { UnitGuard } from '../../domain/index.js';
import { Type } from '@sinclair/typebox';
import * as R from './responses.js';
import type { PendingChangeView } from '../../cases/index.js';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../domain/index.js';
import type { ModelRegistry } from '../../scoring/index.js';
import { actorOf, partyOf, READERS, RISK_WRITERS, typed, type RequestParty } from '../types.js';
import { answeringGuard } from '../idempotency.js';
import { answeringProposal } from './pending-change.js';

/**
 * The model registry over HTTP (issues 11 and 12): which versions are registered, which one an unversioned
 * `modelRef` scores with, and moving that alias — through a second person when four eyes are on for `model.activate`.
 */
export interface ModelRouteDeps {
  readonly models: Pick<ModelRegistry, 'list' | 'aliases' | 'activations' | 'activate' | 'get'>;
  readonly gates: {
    modelActivation(
      id: string,
      version: number,
      maker: RequestParty,
      guard?: UnitGuard<PendingChangeView>,
    ): Promise<PendingChangeView | undefined>;
  };
}

const ModelId = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' });
const IdParams = Type.Object({ id: ModelId });
const VersionParams = Type.Object({
  id: ModelId,
  version: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
});
const tags = ['models'];

export function modelRoutes(deps: ModelRouteDeps): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    app.get(
      '/v1/models',
      {
        config: { roles: READERS },
        schema: {
          tags,
          summary: 'Registered models and the version each id scores with',
          response: {
            200: Type.Object({
              models: Type.Array(R.RegisteredModel),
              aliases: Type.Record(Type.String(), Type.Number()),
            }),
            ...R.READ_ERRORS,
          },
        },
      },
      async () => ({ models: await deps.models.list(), aliases: await deps.models.aliases() }),
    );

    app.get(
      '/v1/models/:id/activations',
      {
        config: { roles: READERS },
        schema: {
          tags,
          summary: "A model id's activations: who moved it to which version, when",
          params: IdParams,
          response: {
            200: Type.Object({ activations: Type.Array(R.ModelActivation) }),
            ...R.ITEM_READ_ERRORS,
          },
        },
      },
      async (request) => ({ activations: await deps.models.activations(request.params.id) }),
    );

    app.post(
      '/v1/models/:id/versions/:version/activate',
      {
        config: { roles: RISK_WRITERS, idempotent: true },
        schema: {
          tags,
          summary:
            'Score unversioned references to this model with this version (202 while it waits for a second person)',
          params: VersionParams,
          response: { 200: R.ModelActivation, 202: R.PendingChangeAnswer, ...R.WRITE_ERRORS },
        },
      },
      async (request, reply) => {
        const { id, version } = request.params;
        if (!(await deps.models.get(id, version)))
          throw new LgError('LG_MODEL_NOT_FOUND', `model ${id} has no version ${version}`);
        // Either the gate's proposal or the activation commits the key, with its answer, in its own transaction.
        const proposal = answeringProposal(request, reply);
        const pending = await deps.gates.modelActivation(id, version, partyOf(request), proposal.guard);
        if (pending) return proposal.send(pending);
        const answer = answeringGuard(request, reply, () => 200);
        return answer.send(await deps.models.activate(id, version, actorOf(request), answer.guard));
      },
    );
  };
}
