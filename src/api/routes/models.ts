import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../domain/index.js';
import type { ModelRegistry } from '../../scoring/index.js';
import { actorOf, READERS, RISK_WRITERS } from '../types.js';

/**
 * The model registry over HTTP (issues 11 and 12): which versions are registered, which one an unversioned
 * `modelRef` scores with, and moving that alias — through a second person when four eyes are on for `model.activate`.
 */
export interface ModelRouteDeps {
  readonly models: Pick<ModelRegistry, 'list' | 'aliases' | 'activations' | 'activate' | 'get'>;
  readonly gates: {
    modelActivation(id: string, version: number, actor: string): Promise<unknown>;
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
  return async (app) => {
    app.get(
      '/v1/models',
      {
        config: { roles: READERS },
        schema: { tags, summary: 'Registered models and the version each id scores with' },
      },
      async () => ({ models: await deps.models.list(), aliases: await deps.models.aliases() }),
    );

    app.get<{ Params: Static<typeof IdParams> }>(
      '/v1/models/:id/activations',
      {
        config: { roles: READERS },
        schema: {
          tags,
          summary: "A model id's activations: who moved it to which version, when",
          params: IdParams,
        },
      },
      async (request) => ({ activations: await deps.models.activations(request.params.id) }),
    );

    app.post<{ Params: Static<typeof VersionParams> }>(
      '/v1/models/:id/versions/:version/activate',
      {
        config: { roles: RISK_WRITERS, idempotent: true },
        schema: {
          tags,
          summary:
            'Score unversioned references to this model with this version (202 while it waits for a second person)',
          params: VersionParams,
        },
      },
      async (request, reply) => {
        const { id, version } = request.params;
        if (!(await deps.models.get(id, version)))
          throw new LgError('LG_MODEL_NOT_FOUND', `model ${id} has no version ${version}`);
        const pending = await deps.gates.modelActivation(id, version, actorOf(request));
        if (pending) return reply.code(202).send({ pendingChange: pending });
        return deps.models.activate(id, version, actorOf(request));
      },
    );
  };
}
