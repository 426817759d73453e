import type { UnitGuard } from '../domain/index.js';
/**
 * What the model registry reads and writes, as the registry's own records: src/store/models.ts implements it,
 * src/app/ wires it. Writes go through one unit of work per call, so a registration, its ledger entry and a first
 * alias commit together or not at all.
 */
import type { ModelFile } from './model-file.js';

export interface RegisteredModel {
  readonly id: string;
  readonly version: number;
  readonly kind: string;
  readonly registeredBy: string;
  readonly registeredAt: number;
}

export interface ModelActivation {
  readonly id: string;
  readonly version: number;
  readonly previousVersion: number | null;
  readonly activatedBy: string;
  readonly activatedAt: number;
}

/** A model file to store under its registry id and version (the file carries both). */
export interface NewModel {
  readonly file: ModelFile;
  readonly registeredBy: string;
  readonly registeredAt: number;
  /** The id of its ledger entry (model.registered, committing to the file by hash). */
  readonly entryId: string;
}

export interface AliasMove {
  readonly id: string;
  readonly version: number;
  readonly by: string;
  readonly at: number;
  /** The id of the history row and of its ledger entry (model.activated). */
  readonly activationId: string;
}

/** Reads and writes inside one database transaction. */
export interface ModelUnit {
  /** The highest registered version of `id` (0: none). */
  latestVersion(id: string): Promise<number>;
  isRegistered(id: string, version: number): Promise<boolean>;
  /** Stores the model with its ledger entry. */
  insertModel(model: NewModel): Promise<void>;
  /** The version the id's alias points at (undefined: no alias yet). */
  activeVersion(id: string): Promise<number | undefined>;
  /** Points the alias at a version, with its history row, ledger entry and the configuration generation. */
  moveAlias(move: AliasMove): Promise<ModelActivation>;
}

export interface ModelRepository {
  /** Runs `work` in one database transaction. */
  /** `guard`: what commits with the unit beyond its own rows (the request's idempotency key). */
  unit<T>(work: (unit: ModelUnit) => Promise<T>, guard?: UnitGuard<T>): Promise<T>;
  /** The active version of every model id (id -> version). */
  aliases(): Promise<Record<string, number>>;
  activations(id: string): Promise<ModelActivation[]>;
  /** The stored file (JSON text) of a version, or of the latest version without one. */
  modelText(id: string, version?: number): Promise<string | undefined>;
  list(id?: string): Promise<RegisteredModel[]>;
  /** Every registered (id, version). */
  keys(): Promise<{ id: string; version: number }[]>;
}
