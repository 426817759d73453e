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

export interface ScoringTables {
  models: ModelsTable;
}
