/** Tables owned by src/scoring (see schema.ts for column conventions). */

/** The model registry: one row per (id, version); `json` holds the self-contained model file. */
export interface ModelsTable {
  id: string;
  version: number;
  kind: string;
  json: string;
  registered_by: string;
  /** Epoch milliseconds. */
  registered_at: number;
}

/** The version an unversioned model reference resolves to; moved only by an explicit activation. */
export interface ModelAliasesTable {
  id: string;
  version: number;
  activated_by: string;
  activated_at: number;
}

/** Every model activation (who moved the alias, from which version), in order. */
export interface ModelActivationsTable {
  id: string;
  model_id: string;
  version: number;
  previous_version: number | null;
  activated_by: string;
  activated_at: number;
}

export interface ScoringTables {
  models: ModelsTable;
  model_aliases: ModelAliasesTable;
  model_activations: ModelActivationsTable;
}
