/**
 * The engine's port (src/engine/ports.ts) over the database: strategies, versions, activations, overlays and
 * decisions, each write in one dbTx with its ledger entry (and the configuration generation where it changes what
 * decides). Also the decision row the core writes inside its own unit of work. A decision's context and trace are
 * sealed at rest (src/compliance/sealed-decisions.ts): written sealed, opened by every read here.
 */
import type { Selectable } from 'kysely';
import {
  sha256Hex,
  type CoreRules,
  type Decision,
  type DecisionContext,
  type Outcome,
  inferCoreRules,
  canonicalJson,
  LgError,
} from '../domain/index.js';
import {
  DECISION_INPUTS,
  DECISION_RESULT,
  appendToLedger,
  isSealedDataUnreadable,
  openDecision,
  openDecisionResult,
  sealDecisionColumns,
  type FieldCrypto,
  type SealedDecisionColumns,
  type LedgerAppend,
  type NamedResealCounts,
} from '../compliance/index.js';
import type {
  DecisionKind,
  DecisionRecord,
  EngineRepository,
  Overlay,
  OverlayChange,
  ParamValue,
  ReplayPage,
  ReplayRow,
  StoredDecision,
  StrategyActivation,
  StrategyDocument,
  StrategySummary,
  StrategyVersionRecord,
  VersionStatus,
} from '../engine/index.js';
import { insertRows } from './shaped.js';
import { resealTablePairs } from './sealed-pairs.js';
import { bumpConfigGeneration, readConfigGeneration } from './config-generation.js';
import type { Db, DbTx, DecisionRow, Store } from './db.js';
import type { EngineTables } from './engine-tables.js';

type VersionRow = Selectable<EngineTables['strategy_versions']>;
type DbLike = Db | DbTx;

/**
 * The decision row and its ledger entry; pure but for the seal's randomness, shared by the async and the synchronous
 * writer. The row keeps the context, the trace and the result sealed; the entry commits to the clear context and trace
 * (contextHmac) and result (resultHmac).
 */
export function decisionWrites(
  record: DecisionRecord,
  crypto: FieldCrypto,
): { row: DecisionRow; ledger: LedgerAppend } {
  const sealed = sealDecisionColumns(crypto, record.id, {
    context: canonicalJson(record.context),
    trace: canonicalJson(record.decision.trace),
    result: canonicalJson(resultOf(record.decision)),
  });
  return { row: decisionRow(record, sealed), ledger: decisionLedger(record, sealed) };
}

function decisionRow(record: DecisionRecord, sealed: SealedDecisionColumns): DecisionRow {
  const d = record.decision;
  return {
    id: record.id,
    kind: record.kind,
    borrower_id: record.borrowerId ?? null,
    line_id: record.lineId ?? null,
    subject_key: record.subjectKey ?? null,
    strategy_id: d.strategyId,
    strategy_version: d.strategyVersion,
    engine_version: d.engineVersion,
    context: sealed.context,
    outcome: d.outcome,
    reasons: JSON.stringify(d.reasons),
    result: sealed.result,
    trace: sealed.trace,
    engine_error: d.engineError ? 1 : 0,
    latency_ms: record.latencyMs,
    decided_at: record.decidedAt,
    core_rules: record.coreRules ? canonicalJson(record.coreRules) : null,
  };
}

function decisionLedger(record: DecisionRecord, sealed: SealedDecisionColumns): LedgerAppend {
  const d = record.decision;
  return {
    entryId: record.id,
    kind: 'decision',
    subjectId: record.id,
    recordedAt: record.decidedAt,
    payload: {
      decisionId: record.id,
      decisionKind: record.kind,
      borrowerId: record.borrowerId ?? null,
      lineId: record.lineId ?? null,
      strategyId: d.strategyId,
      strategyVersion: d.strategyVersion,
      engineVersion: d.engineVersion,
      outcome: d.outcome,
      reasons: d.reasons,
      limitMinor: d.limitMinor ?? null,
      annualRate: d.annualRate ?? null,
      actions: d.actions,
      engineError: d.engineError === true,
      // The context holds personal data: the chain commits to it by a keyed commitment whose key is sealed with the
      // context (never an unkeyed hash, which would confirm a guessed bureau figure). Entries written before sealing
      // carry contextSha256, the SHA-256 of the clear context; `ledger verify` proves either (src/compliance/facts.ts).
      contextHmac: sealed.contextHmac,
      // The score and PD among the result's values: proven by a commitment too, never held here in clear.
      resultHmac: sealed.resultHmac,
    },
  };
}

/**
 * Inserts the decision row and its ledger entry in the caller's transaction (the core's dbTx), so a decision exists
 * exactly when the change it caused committed, and the hash chain covers it (DESIGN: one dbTx per state change).
 */
export async function recordDecision(tx: DbTx, record: DecisionRecord, crypto: FieldCrypto): Promise<void> {
  const { row, ledger } = decisionWrites(record, crypto);
  await insertDecision(tx, row);
  await appendToLedger(tx, [ledger]);
}

/** A decision's row without its ledger entry, which the caller appends with its unit's other entries. */
export async function insertDecision(tx: DbTx, row: DecisionRow): Promise<void> {
  await insertRows(tx, 'decisions', [row]);
}

function resultOf(d: Decision): Record<string, unknown> {
  return {
    outcome: d.outcome,
    reasons: d.reasons,
    limitMinor: d.limitMinor,
    annualRate: d.annualRate,
    actions: d.actions,
    values: d.values,
    shadows: d.shadows,
    engineError: d.engineError,
  };
}

/** A stored decision with its context, trace and result opened; LG_SEALED_DATA_UNREADABLE when one cannot be. */
function decisionFromRow(row: Selectable<EngineTables['decisions']>, crypto: FieldCrypto): StoredDecision {
  const opened = openDecision(crypto, row);
  const result = JSON.parse(openDecisionResult(crypto, row.id, row.result).result) as Omit<
    Decision,
    'trace' | 'strategyId' | 'strategyVersion' | 'engineVersion'
  >;
  const decision: Decision = {
    ...result,
    strategyId: row.strategy_id,
    strategyVersion: Number(row.strategy_version),
    engineVersion: row.engine_version,
    outcome: row.outcome as Outcome,
    reasons: JSON.parse(row.reasons) as string[],
    trace: JSON.parse(opened.trace) as Decision['trace'],
    values: result.values ?? {},
    actions: result.actions ?? [],
  };
  return {
    id: row.id,
    kind: row.kind as DecisionKind,
    borrowerId: row.borrower_id,
    lineId: row.line_id,
    subjectKey: row.subject_key,
    context: JSON.parse(opened.context) as DecisionContext,
    decision,
    latencyMs: Number(row.latency_ms),
    decidedAt: Number(row.decided_at),
    strategyId: row.strategy_id,
    strategyVersion: Number(row.strategy_version),
    engineVersion: row.engine_version,
    ...(row.core_rules ? { coreRules: JSON.parse(row.core_rules) as CoreRules } : {}),
  };
}

async function getDecision(db: DbLike, id: string, crypto: FieldCrypto): Promise<StoredDecision | undefined> {
  const row = await db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? decisionFromRow(row, crypto) : undefined;
}

async function decisionsForReplay(db: DbLike, page: ReplayPage, crypto: FieldCrypto): Promise<ReplayRow[]> {
  const { after, range } = page;
  let query = db
    .selectFrom('decisions')
    .selectAll()
    .where('strategy_id', '=', page.strategyId)
    .where('kind', '!=', 'simulation')
    .where('decided_at', '>=', range.from)
    .where('decided_at', '<', range.to);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('decided_at', '>', after.decidedAt),
        eb.and([eb('decided_at', '=', after.decidedAt), eb('id', '>', after.id)]),
      ]),
    );
  }
  const rows = await query.orderBy('decided_at').orderBy('id').limit(page.pageSize).execute();
  return withInferredCoreRules(
    db,
    rows.map((row) => replayRowFrom(row, crypto)),
  );
}

/**
 * A decision to replay, or, when its sealed context and trace cannot be opened, the decision named as unreadable in
 * its place: one such row leaves the rest of a simulation's period to replay, and is reported, not dropped.
 */
function replayRowFrom(row: Selectable<EngineTables['decisions']>, crypto: FieldCrypto): ReplayRow {
  try {
    return decisionFromRow(row, crypto);
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { id: row.id, decidedAt: Number(row.decided_at), unreadable: error.message };
  }
}

/**
 * Decisions stored before the core recorded its rules (migration 220): what the application or draw answered is on
 * its own row, and the rules that hold whatever the strategy says are inferred from it (see inferCoreRules).
 */
async function withInferredCoreRules(db: DbLike, decisions: ReplayRow[]): Promise<ReplayRow[]> {
  const older = (kind: DecisionKind) =>
    decisions
      .filter((d) => !('unreadable' in d) && d.kind === kind && d.coreRules === undefined)
      .map((d) => d.id);
  const [applicationIds, drawIds] = [older('application'), older('draw')];
  if (applicationIds.length === 0 && drawIds.length === 0) return decisions;
  const finals = new Map<string, CoreRules['final']>();
  if (applicationIds.length > 0) {
    const rows = await db
      .selectFrom('applications')
      .select(['decision_id', 'outcome', 'reasons', 'limit_minor'])
      .where('decision_id', 'in', applicationIds)
      .execute();
    for (const r of rows)
      finals.set(r.decision_id, {
        outcome: r.outcome as Outcome,
        reasons: JSON.parse(r.reasons) as string[],
        limitMinor: r.limit_minor === null ? null : Number(r.limit_minor),
      });
  }
  if (drawIds.length > 0) {
    const rows = await db
      .selectFrom('draws')
      .select(['decision_id', 'status', 'reasons'])
      .where('decision_id', 'in', drawIds)
      .execute();
    for (const r of rows)
      finals.set(r.decision_id, {
        outcome: DRAW_STATUS_OUTCOME[r.status] ?? 'REVIEW',
        reasons: JSON.parse(r.reasons) as string[],
        limitMinor: null,
      });
  }
  return decisions.map((d) => {
    const final = finals.get(d.id);
    if (final === undefined || 'unreadable' in d) return d;
    return { ...d, coreRules: inferCoreRules(d.kind, d.decision, final), coreRulesInferred: true };
  });
}

/** A draw's status as an outcome (the inverse of src/core/draws.ts OUTCOME_STATUS). */
const DRAW_STATUS_OUTCOME: Record<string, Outcome> = {
  APPROVED: 'APPROVE',
  DECLINED: 'DECLINE',
  HOLD: 'HOLD',
  COOLDOWN: 'COOLDOWN',
  CHALLENGE: 'CHALLENGE',
  REVIEW: 'REVIEW',
};

// ---- strategies and versions

function versionFromRow(row: VersionRow): StrategyVersionRecord {
  return {
    strategyId: row.strategy_id,
    version: Number(row.version),
    status: row.status as VersionStatus,
    document: JSON.parse(row.document) as StrategyDocument,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    activatedBy: row.activated_by,
    activatedAt: row.activated_at === null ? null : Number(row.activated_at),
  };
}

async function countStrategies(db: DbLike): Promise<number> {
  const row = await db
    .selectFrom('strategies')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * A new draft version (max + 1) with its ledger entry in the same dbTx: the chain commits to every version a risk
 * team wrote, by hash of its canonical document (issue 12, configuration in the ledger).
 */
async function insertVersion(
  tx: DbTx,
  doc: StrategyDocument,
  input: { by: string; at: number; entryId: string },
): Promise<StrategyVersionRecord> {
  const { by, at } = input;
  await tx
    .insertInto('strategies')
    .values({ id: doc.id, name: doc.name ?? doc.id, active_version: null, created_at: at, updated_at: at })
    .onConflict((oc) => oc.column('id').doUpdateSet({ updated_at: at, name: doc.name ?? doc.id }))
    .execute();
  // The upsert above locks the strategy row on PostgreSQL, so concurrent saves number their versions in turn.
  const top = await tx
    .selectFrom('strategy_versions')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('strategy_id', '=', doc.id)
    .executeTakeFirst();
  const version = Number(top?.v ?? 0) + 1;
  const row: VersionRow = {
    strategy_id: doc.id,
    version,
    status: 'draft',
    document: canonicalJson({ ...doc, version }),
    created_by: by,
    created_at: at,
    activated_by: null,
    activated_at: null,
  };
  await tx.insertInto('strategy_versions').values(row).execute();
  await appendToLedger(tx, [
    {
      entryId: input.entryId,
      kind: 'strategy.version_saved',
      subjectId: doc.id,
      recordedAt: at,
      payload: { strategyId: doc.id, version, createdBy: by, documentSha256: sha256Hex(row.document) },
    },
  ]);
  return versionFromRow(row);
}

async function findVersion(
  db: DbLike,
  id: string,
  version: number,
): Promise<StrategyVersionRecord | undefined> {
  const row = await db
    .selectFrom('strategy_versions')
    .selectAll()
    .where('strategy_id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return row ? versionFromRow(row) : undefined;
}

async function listVersions(db: DbLike, id: string): Promise<StrategyVersionRecord[]> {
  const rows = await db
    .selectFrom('strategy_versions')
    .selectAll()
    .where('strategy_id', '=', id)
    .orderBy('version')
    .execute();
  return rows.map(versionFromRow);
}

async function activeVersions(db: DbLike): Promise<StrategyVersionRecord[]> {
  const rows = await db.selectFrom('strategy_versions').selectAll().where('status', '=', 'active').execute();
  return rows.map(versionFromRow);
}

async function listStrategies(db: DbLike): Promise<StrategySummary[]> {
  const rows = await db
    .selectFrom('strategies')
    .leftJoin('strategy_versions', 'strategy_versions.strategy_id', 'strategies.id')
    .select((eb) => [
      'strategies.id',
      'strategies.name',
      'strategies.active_version',
      'strategies.updated_at',
      eb.fn.max('strategy_versions.version').as('latest'),
    ])
    .groupBy(['strategies.id', 'strategies.name', 'strategies.active_version', 'strategies.updated_at'])
    .orderBy('strategies.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    activeVersion: r.active_version === null ? null : Number(r.active_version),
    latestVersion: Number(r.latest ?? 0),
    updatedAt: Number(r.updated_at),
  }));
}

interface ActivationInput {
  readonly id: string;
  readonly version: number;
  readonly by: string;
  readonly at: number;
  readonly activationId: string;
}

/**
 * Makes `version` the live one in the caller's dbTx: the old active version is retired, the history row, the ledger
 * entry and the configuration generation (which tells every other instance to reload) written with it.
 * Rollback is the same call with an older version.
 */
async function activateVersion(tx: DbTx, input: ActivationInput): Promise<StrategyVersionRecord> {
  const strategy = await tx
    .selectFrom('strategies')
    .select(['id', 'active_version'])
    .where('id', '=', input.id)
    .executeTakeFirst();
  if (!strategy) throw new LgError('LG_STRATEGY_NOT_FOUND', `no strategy '${input.id}'`);
  // Touch the row first: on PostgreSQL this takes its lock, so two activations serialise.
  await tx.updateTable('strategies').set({ updated_at: input.at }).where('id', '=', input.id).execute();
  const target = await findVersion(tx, input.id, input.version);
  if (!target) throw new LgError('LG_NOT_FOUND', `strategy '${input.id}' has no version ${input.version}`);
  const previous = strategy.active_version === null ? null : Number(strategy.active_version);
  await switchActiveVersion(tx, input);
  await tx
    .insertInto('strategy_activations')
    .values({
      id: input.activationId,
      strategy_id: input.id,
      version: input.version,
      previous_version: previous,
      activated_by: input.by,
      activated_at: input.at,
    })
    .execute();
  await appendToLedger(tx, [
    {
      entryId: input.activationId,
      kind: 'strategy.activated',
      subjectId: input.id,
      recordedAt: input.at,
      payload: {
        strategyId: input.id,
        version: input.version,
        previousVersion: previous,
        activatedBy: input.by,
        documentSha256: sha256Hex(canonicalJson(target.document)),
      },
    },
  ]);
  await bumpConfigGeneration(tx);
  return { ...target, status: 'active', activatedBy: input.by, activatedAt: input.at };
}

async function switchActiveVersion(tx: DbTx, input: ActivationInput): Promise<void> {
  await tx
    .updateTable('strategy_versions')
    .set({ status: 'retired' })
    .where('strategy_id', '=', input.id)
    .where('status', '=', 'active')
    .execute();
  await tx
    .updateTable('strategy_versions')
    .set({ status: 'active', activated_by: input.by, activated_at: input.at })
    .where('strategy_id', '=', input.id)
    .where('version', '=', input.version)
    .execute();
  await tx
    .updateTable('strategies')
    .set({ active_version: input.version })
    .where('id', '=', input.id)
    .execute();
}

async function activationHistory(db: DbLike, id: string): Promise<StrategyActivation[]> {
  const rows = await db
    .selectFrom('strategy_activations')
    .selectAll()
    .where('strategy_id', '=', id)
    .orderBy('activated_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    version: Number(r.version),
    previousVersion: r.previous_version === null ? null : Number(r.previous_version),
    activatedBy: r.activated_by,
    activatedAt: Number(r.activated_at),
  }));
}

// ---- overlays

async function listOverlays(db: DbLike): Promise<Overlay[]> {
  const rows = await db.selectFrom('overlays').selectAll().orderBy('name').execute();
  return rows.map((r) => ({
    name: r.name,
    value: JSON.parse(r.value) as ParamValue,
    description: r.description,
    updatedBy: r.updated_by,
    updatedAt: Number(r.updated_at),
  }));
}

interface OverlayInput {
  readonly name: string;
  readonly value: ParamValue;
  readonly description?: string;
  readonly by: string;
  readonly at: number;
  readonly historyId: string;
}

/** Sets an overlay in the caller's dbTx with its history row, ledger entry and configuration generation. */
async function putOverlay(tx: DbTx, input: OverlayInput): Promise<Overlay> {
  const before = await tx
    .selectFrom('overlays')
    .select(['value', 'description'])
    .where('name', '=', input.name)
    .executeTakeFirst();
  const value = JSON.stringify(input.value);
  const description = input.description ?? before?.description ?? null;
  await tx
    .insertInto('overlays')
    .values({ name: input.name, value, description, updated_by: input.by, updated_at: input.at })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({ value, description, updated_by: input.by, updated_at: input.at }),
    )
    .execute();
  await tx
    .insertInto('overlay_history')
    .values({
      id: input.historyId,
      name: input.name,
      value,
      previous_value: before?.value ?? null,
      changed_by: input.by,
      changed_at: input.at,
    })
    .execute();
  await appendToLedger(tx, [
    {
      entryId: input.historyId,
      kind: 'overlay.changed',
      subjectId: input.name,
      recordedAt: input.at,
      payload: {
        name: input.name,
        value: input.value,
        previousValue: before === undefined ? null : (JSON.parse(before.value) as ParamValue),
        changedBy: input.by,
      },
    },
  ]);
  await bumpConfigGeneration(tx);
  return { name: input.name, value: input.value, description, updatedBy: input.by, updatedAt: input.at };
}

async function overlayHistory(db: DbLike, name?: string): Promise<OverlayChange[]> {
  let query = db.selectFrom('overlay_history').selectAll();
  if (name !== undefined) query = query.where('name', '=', name);
  const rows = await query.orderBy('changed_at').orderBy('id').execute();
  return rows.map((r) => ({
    name: r.name,
    value: JSON.parse(r.value) as ParamValue,
    previousValue: r.previous_value === null ? null : (JSON.parse(r.previous_value) as ParamValue),
    changedBy: r.changed_by,
    changedAt: Number(r.changed_at),
  }));
}

/**
 * The engine's repository on `store`. What decides (generation, active versions, overlays) is read on the store's
 * read connection: committed rows only, never queued behind the SQLite writer's open batch. `crypto` opens the
 * decisions' sealed contexts and traces.
 */
export function createEngineRepository(store: Store, crypto: FieldCrypto): EngineRepository {
  return {
    countStrategies: () => countStrategies(store.db),
    configGeneration: () => readConfigGeneration(store.readDb),
    activeVersions: () => activeVersions(store.readDb),
    overlays: () => listOverlays(store.readDb),
    saveVersion: (doc, input, unitGuard) =>
      store.transaction((tx) => insertVersion(tx, doc, input), unitGuard),
    activateVersion: (input, unitGuard) => store.transaction((tx) => activateVersion(tx, input), unitGuard),
    findVersion: (id, version) => findVersion(store.db, id, version),
    listVersions: (id) => listVersions(store.db, id),
    listStrategies: () => listStrategies(store.db),
    activationHistory: (id) => activationHistory(store.db, id),
    putOverlay: (input, unitGuard) => store.transaction((tx) => putOverlay(tx, input), unitGuard),
    overlayHistory: (name) => overlayHistory(store.db, name),
    getDecision: (id) => getDecision(store.db, id, crypto),
    decisionsForReplay: (page) => decisionsForReplay(store.db, page, crypto),
  };
}

/**
 * What a rotation of the decisions reports: decisionsChecked, decisionsSealed, decisionsUnopenable (their contexts and
 * traces), and the same named decisionResults (their results).
 */
export type DecisionResealResult = NamedResealCounts<'decisions'> & NamedResealCounts<'decisionResults'>;

/**
 * `lineguard keys rotate-data` for decisions (src/compliance/reseal.ts): every context and trace, and every result, not
 * sealed under the current key is sealed under it, a page per transaction, each row compare-and-set on what was read.
 */
export async function resealDecisions(
  store: Store,
  crypto: FieldCrypto,
  pageSize = 500,
): Promise<DecisionResealResult> {
  return {
    ...(await resealTablePairs(store, { pair: DECISION_INPUTS, counted: 'decisions' }, crypto, pageSize)),
    ...(await resealTablePairs(
      store,
      { pair: DECISION_RESULT, counted: 'decisionResults' },
      crypto,
      pageSize,
    )),
  };
}
