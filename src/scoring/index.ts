/** The scoring toolkit's public face for other folders: the model registry the engine, the API and the CLI read. */
export {
  createModelRegistry,
  resolverFromRegistry,
  type ModelActivation,
  type ModelRegistry,
  type RegisterOptions,
  type RegisteredModel,
} from './registry.js';
export type { AliasMove, ModelRepository, ModelUnit, NewModel } from './registry-port.js';
export type { ModelFile } from './model-file.js';
