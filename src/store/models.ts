/**
 * The model registry's port (src/scoring/registry-port.ts) over the database: immutable model rows, one alias per
 * id, the activation history; every write with its ledger entry, an alias move also with the configuration generation.
 */
import type { Selectable } from 'kysely';
import { canonicalJson, sha256Hex } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import type {
  AliasMove,
  ModelActivation,
  ModelRepository,
  ModelUnit,
  NewModel,
  RegisteredModel,
} from '../scoring/index.js';
import { bumpConfigGeneration } from './config-generation.js';
import type { Db, DbTx, Store } from './db.js';
import type { ModelsTable } from './scoring-tables.js';

type ModelInfoRow = Pick<
  Selectable<ModelsTable>,
  'id' | 'version' | 'kind' | 'registered_by' | 'registered_at'
>;

function infoFromRow(r: ModelInfoRow): RegisteredModel {
  return {
    id: r.id,
    version: Number(r.version),
    kind: r.kind,
    registeredBy: r.registered_by,
    registeredAt: Number(r.registered_at),
  };
}

async function latestVersion(tx: DbTx, id: string): Promise<number> {
  const row = await tx
    .selectFrom('models')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(row?.v ?? 0);
}

async function isRegistered(db: Db | DbTx, id: string, version: number): Promise<boolean> {
  const row = await db
    .selectFrom('models')
    .select('id')
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return row !== undefined;
}

async function insertModel(tx: DbTx, model: NewModel): Promise<void> {
  const { file } = model;
  await tx
    .insertInto('models')
    .values({
      id: file.id,
      version: file.version,
      kind: file.kind,
      json: JSON.stringify(file),
      registered_by: model.registeredBy,
      registered_at: model.registeredAt,
    })
    .execute();
  await appendToLedger(tx, [
    {
      entryId: model.entryId,
      kind: 'model.registered',
      subjectId: file.id,
      recordedAt: model.registeredAt,
      payload: {
        modelId: file.id,
        version: file.version,
        kind: file.kind,
        registeredBy: model.registeredBy,
        modelSha256: sha256Hex(canonicalJson(file)),
      },
    },
  ]);
}

async function activeVersion(tx: DbTx, id: string): Promise<number | undefined> {
  const row = await tx.selectFrom('model_aliases').select('version').where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : Number(row.version);
}

async function moveAlias(tx: DbTx, move: AliasMove): Promise<ModelActivation> {
  const previousVersion = (await activeVersion(tx, move.id)) ?? null;
  const values = { version: move.version, activated_by: move.by, activated_at: move.at };
  await tx
    .insertInto('model_aliases')
    .values({ id: move.id, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .execute();
  await tx
    .insertInto('model_activations')
    .values({
      id: move.activationId,
      model_id: move.id,
      version: move.version,
      previous_version: previousVersion,
      activated_by: move.by,
      activated_at: move.at,
    })
    .execute();
  await appendToLedger(tx, [
    {
      entryId: move.activationId,
      kind: 'model.activated',
      subjectId: move.id,
      recordedAt: move.at,
      payload: { modelId: move.id, version: move.version, previousVersion, activatedBy: move.by },
    },
  ]);
  await bumpConfigGeneration(tx);
  return { id: move.id, version: move.version, previousVersion, activatedBy: move.by, activatedAt: move.at };
}

function unitOf(tx: DbTx): ModelUnit {
  return {
    latestVersion: (id) => latestVersion(tx, id),
    isRegistered: (id, version) => isRegistered(tx, id, version),
    insertModel: (model) => insertModel(tx, model),
    activeVersion: (id) => activeVersion(tx, id),
    moveAlias: (move) => moveAlias(tx, move),
  };
}

async function modelText(db: Db, id: string, version?: number): Promise<string | undefined> {
  let query = db.selectFrom('models').select('json').where('id', '=', id);
  query =
    version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
  return (await query.executeTakeFirst())?.json;
}

export function createModelRepository(store: Store): ModelRepository {
  const db = store.db;
  return {
    unit: (work, guard) => store.transaction((tx) => work(unitOf(tx)), guard),
    async aliases() {
      const rows = await db.selectFrom('model_aliases').select(['id', 'version']).execute();
      return Object.fromEntries(rows.map((r) => [r.id, Number(r.version)]));
    },
    async activations(id) {
      const rows = await db
        .selectFrom('model_activations')
        .selectAll()
        .where('model_id', '=', id)
        .orderBy('activated_at')
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        id: r.model_id,
        version: Number(r.version),
        previousVersion: r.previous_version === null ? null : Number(r.previous_version),
        activatedBy: r.activated_by,
        activatedAt: Number(r.activated_at),
      }));
    },
    modelText: (id, version) => modelText(db, id, version),
    async list(id) {
      let query = db.selectFrom('models').select(['id', 'version', 'kind', 'registered_by', 'registered_at']);
      if (id !== undefined) query = query.where('id', '=', id);
      const rows = await query.orderBy('id').orderBy('version').execute();
      return rows.map(infoFromRow);
    },
    async keys() {
      const rows = await db.selectFrom('models').select(['id', 'version']).execute();
      return rows.map((r) => ({ id: r.id, version: Number(r.version) }));
    },
  };
}
