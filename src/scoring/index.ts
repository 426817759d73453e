/** The scoring toolkit's public face for other folders: the model registry the engine, the API and the CLI read. */
export {
  createModelRegistry,
  resolverFromRegistry,
  type ModelActivation,
  type ModelRegistry,
  type RegisterOptions,
  type RegisteredModel,
} from './registry.js';
