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

export type { CalibrationMethod } from './calibration.js';
export { compareModels, comparisonTarget, formatComparisonText } from './compare.js';
export type { ComparisonResult } from './compare.js';
export { formatCsv, readCsvTable } from './csv.js';
export type { FeatureType } from './dataset.js';
export { GERMAN_COSTS, psi } from './metrics.js';
export type { CostMatrix } from './metrics.js';
export type { ModelKind } from './model-file.js';
export { formatMonitorText, monitorModel } from './monitor.js';
export type { MonitorResult } from './monitor.js';
export { renderReport } from './report.js';
export { DEFAULT_SCALING } from './scaling.js';
export { scorerFromModel } from './scorer.js';
export type { ModelScorerWithText } from './scorer.js';
export { rowRecord, trainModel } from './train.js';
