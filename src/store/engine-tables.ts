import type { ColumnType } from 'kysely';

/** Tables owned by src/engine (see schema.ts for column conventions). */
export interface EngineTables {
  /** One row per strategy: which version is live. */
  strategies: {
    id: string;
    name: string;
    active_version: number | null;
    created_at: number;
    updated_at: number;
  };
  /** Every version ever saved; never updated except its status. */
  strategy_versions: {
    strategy_id: string;
    version: number;
    /** 'draft' | 'active' | 'retired' */
    status: string;
    /** Canonical JSON of the strategy document. */
    document: string;
    created_by: string;
    created_at: number;
    activated_by: string | null;
    activated_at: number | null;
  };
  /** Who activated what and when (rollbacks included), in order. */
  strategy_activations: {
    id: string;
    strategy_id: string;
    version: number;
    previous_version: number | null;
    activated_by: string;
    activated_at: number;
  };
  /** Every decision with the inputs as they were (point-in-time), so it can be replayed and simulated against. */
  decisions: {
    id: string;
    /** 'application' | 'draw' | 'review' | 'event' | 'simulation' */
    kind: string;
    borrower_id: string | null;
    line_id: string | null;
    subject_key: string | null;
    strategy_id: string;
    strategy_version: number;
    engine_version: string;
    context: string;
    outcome: string;
    reasons: string;
    result: string;
    trace: string;
    engine_error: number;
    latency_ms: number;
    decided_at: number;
    /**
     * JSON CoreRules (src/domain/core-rules.ts): what the core did to an application's or a draw's decision before
     * answering; null for other kinds and for decisions stored before migration 220. Optional on insert.
     */
    core_rules: ColumnType<string | null, string | null | undefined, string | null>;
  };
  /** Macro overlays: named parameters a risk team changes without a new strategy version. */
  overlays: {
    name: string;
    /** JSON scalar. */
    value: string;
    description: string | null;
    updated_by: string;
    updated_at: number;
  };
  overlay_history: {
    id: string;
    name: string;
    value: string;
    previous_value: string | null;
    changed_by: string;
    changed_at: number;
  };
  /** One row (id 1): bumped with every change to what decides, so every instance knows when to reload. */
  config_generation: {
    id: number;
    generation: number;
  };
}
