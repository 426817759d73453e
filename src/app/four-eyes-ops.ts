import type { UnitGuard } from '../domain/index.js';
import type { Clock } from '../domain/index.js';
import type { IdGenerator } from '../domain/index.js';
import type { RandomSource } from '../domain/index.js';
import type { LineActionType } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import { findUser, insertApiKey, lineRow, type DbTx, type Store } from '../store/index.js';
import { applyActionInTx, checkLineAction, liftsFraudRestriction, type CoreServices } from '../core/index.js';
import type { EngineService } from '../engine/index.js';
import type { MonitorService } from '../monitor/index.js';
import type { ModelRegistry } from '../scoring/index.js';
import type { NewListEntry, SharedListExport } from '../monitor/index.js';
import type {
  ApplyContext,
  ChangeOperation,
  FourEyes,
  FourEyesOperation,
  FourEyesParty,
  PendingChangeView,
} from '../cases/index.js';

/**
 * Apply functions for the staff operations on the four-eyes list that act on core facts: a manual line action that
 * needs a second person (a large limit increase, lifting a fraud restriction, raising the rate) and creating an admin
 * key. Each runs in the approval's dbTx, so the change and its approval commit together.
 */
export interface LineActionPayload {
  readonly lineId: string;
  readonly action: {
    readonly type: LineActionType;
    readonly reasons: readonly string[];
    readonly limitMinor?: number;
    readonly annualRate?: number;
    readonly appealable?: boolean;
    readonly tempUntil?: number;
    readonly note?: string;
  };
}

export interface AdminKeyPayload {
  readonly keyId: string;
  /** SHA-256 of the key the maker was shown once; the secret itself is never stored. */
  readonly keyHash: string;
  readonly userId: string;
  readonly label: string;
}

async function lineActionApply(core: CoreServices, tx: DbTx, payload: unknown, context: ApplyContext) {
  const p = payload as LineActionPayload;
  const done = await applyActionInTx(core.deps, tx, p.lineId, {
    ...p.action,
    automated: false,
    actor: context.maker,
    note: `${p.action.note ?? ''} (approved by ${context.checker}, change ${context.changeId})`.trim(),
  });
  await appendToLedger(tx, [done.ledger]);
  return done.result;
}

function adminKeyOperation(deps: { clock: Clock; ids: IdGenerator }): ChangeOperation {
  return {
    async apply(tx: DbTx, payload: unknown, context: ApplyContext) {
      const p = payload as AdminKeyPayload;
      const user = await findUser(tx, p.userId);
      if (!user || user.disabled_at !== null || user.role !== 'admin')
        throw new LgError('LG_CONFLICT', 'the user is no longer an active admin', { userId: p.userId });
      const now = deps.clock.now();
      await insertApiKey(tx, {
        id: p.keyId,
        key_hash: p.keyHash,
        role: 'admin',
        label: p.label,
        created_at: now,
        revoked_at: null,
        user_id: p.userId,
        // The maker was shown the secret when proposing it (the checker never was).
        issued_by: context.maker,
      });
      await appendToLedger(tx, [
        {
          entryId: deps.ids.next(),
          kind: 'api_key.created',
          subjectId: p.keyId,
          recordedAt: now,
          payload: {
            keyId: p.keyId,
            userId: p.userId,
            role: 'admin',
            label: p.label,
            by: context.maker,
            approvedBy: context.checker,
          },
        },
      ]);
      return { keyId: p.keyId, userId: p.userId };
    },
  };
}

/**
 * Registers the staff operations. A line operation is also a case outcome's (an uphold that lifts a fraud
 * restriction or restores a cut limit): a payload that names a case keeps the case's apply, registered before.
 */
export function registerStaffOperations(
  fourEyes: FourEyes,
  deps: { core: CoreServices; store: Store; clock: Clock; ids: IdGenerator; random: RandomSource },
): void {
  for (const name of ['line.limit_increase', 'line.lift_fraud_restriction', 'line.rate_change'] as const) {
    const resolution = fourEyes.operation(name);
    fourEyes.register(name, {
      apply: (tx: DbTx, payload, context) =>
        typeof payload === 'object' && payload !== null && 'caseId' in payload && resolution?.apply
          ? resolution.apply(tx, payload, context)
          : lineActionApply(deps.core, tx, payload, context),
      // A case outcome's change refused sends its case back to a person; a line action's has no case (it checks).
      ...(resolution?.onRefused ? { onRefused: resolution.onRefused } : {}),
    });
  }
  fourEyes.register('api_key.create_admin', adminKeyOperation(deps));
}

/**
 * Hooks the existing routes call before a four-eyes operation: a pending change when a second person is needed,
 * undefined to go ahead. They bind people: the installation's own key (LINEGUARD_ADMIN_KEY) stays outside four eyes,
 * as the CLI does, so production should retire it once users exist (see README); any other key that belongs to no
 * user is refused an operation that needs a second person (LG_KEY_UNOWNED).
 */
export interface FourEyesGates {
  lineAction(
    lineId: string,
    action: LineActionPayload['action'],
    maker: FourEyesParty,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView | undefined>;
  strategyActivation(
    id: string,
    version: number,
    maker: FourEyesParty,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView | undefined>;
  overlay(
    input: { name: string; value: number | string | boolean; description?: string },
    maker: FourEyesParty,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView | undefined>;
  listAdd(
    entry: Omit<NewListEntry, 'addedBy'>,
    maker: FourEyesParty,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView | undefined>;
  listRemove(
    entryId: string,
    maker: FourEyesParty,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView | undefined>;
  /** An import of a partner's shared list adds entries: `list.add`. `summary` is what the checker reads. */
  listImport(
    shared: SharedListExport,
    summary: ListImportSummary,
    maker: FourEyesParty,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView | undefined>;
  /** Replacing a partner's sharing key unhooks every entry imported under the old one: `list.remove`. */
  partnerKeyReplacement(
    replacement: PartnerKeyReplacement,
    maker: FourEyesParty,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView | undefined>;
  modelActivation(
    id: string,
    version: number,
    maker: FourEyesParty,
    guard?: UnitGuard<PendingChangeView>,
  ): Promise<PendingChangeView | undefined>;
}

/** What ListService.assertImportable answers about an import (counts per list and entity type, never the HMACs). */
type ListImportSummary = ReturnType<MonitorService['lists']['assertImportable']>;
/** What ListService.partnerKeyReplacement answers: the new key sealed, both fingerprints, the entries it unhooks. */
type PartnerKeyReplacement = NonNullable<
  Awaited<ReturnType<MonitorService['lists']['partnerKeyReplacement']>>
>;

/**
 * The payload of a `list.add` change that imports a partner's shared list (a single entry's payload is the entry: it
 * has no `kind`). The approval imports exactly `shared`, as the maker.
 */
interface ListImportPayload {
  readonly kind: 'list.import';
  readonly shared: SharedListExport;
}

/**
 * The payload of a `list.remove` change that replaces a partner's sharing key (an entry's removal is `{ entryId }`):
 * the new key sealed under the master key as ListService stores one, never in clear (every staff role reads a pending
 * change), and the fingerprint of the key it replaces, over which alone it applies.
 */
interface PartnerKeyPayload {
  readonly kind: 'list.partner_key';
  readonly partnerId: string;
  readonly keySealed: string;
  readonly keyFingerprint: string;
  readonly previousFingerprint: string;
}

const isListImport = (payload: unknown): payload is ListImportPayload =>
  typeof payload === 'object' && payload !== null && (payload as { kind?: unknown }).kind === 'list.import';

const isPartnerKeyChange = (payload: unknown): payload is PartnerKeyPayload =>
  typeof payload === 'object' &&
  payload !== null &&
  (payload as { kind?: unknown }).kind === 'list.partner_key';

/**
 * Whether the maker's change waits for a checker (a person's), or goes ahead outside four eyes (the installation's own
 * key, an actor with no key); a key that belongs to no person is refused here (LG_KEY_UNOWNED), never let act alone.
 */
const needsChecker = async (fourEyes: FourEyes, maker: FourEyesParty): Promise<boolean> =>
  (await fourEyes.admitMaker(maker)) === 'person';

/** What a gate asks the four-eyes store to hold for a checker. */
interface Proposal {
  readonly operation: FourEyesOperation;
  readonly subjectId: string;
  readonly payload: unknown;
  readonly diff: unknown;
  readonly reason: string;
}

type Propose = (
  proposal: Proposal,
  maker: FourEyesParty,
  guard: UnitGuard<PendingChangeView> | undefined,
) => ReturnType<FourEyes['propose']>;

export function createGates(
  fourEyes: FourEyes,
  deps: {
    readonly core: CoreServices;
    readonly store: Store;
    /** Judges a strategy activation before it is proposed (what `activate` would refuse). */
    readonly engine: Pick<EngineService, 'checkActivation'>;
  },
): FourEyesGates {
  const { core, store, engine } = deps;
  const propose: Propose = (proposal, maker, guard) =>
    fourEyes.propose(
      {
        operation: proposal.operation,
        subjectId: proposal.subjectId,
        payload: proposal.payload,
        diff: proposal.diff,
        reason: proposal.reason,
        maker: maker.actor,
        makerKeyId: maker.keyId,
      },
      undefined,
      guard,
    );
  return {
    lineAction: lineActionGate({ fourEyes, core, store }, propose),
    ...activationGates(fourEyes, engine, propose),
    ...overlayAndListGates(fourEyes, propose),
    ...listSharingGates(fourEyes, propose),
  };
}

/**
 * A limit raise at or above the threshold, lifting a fraud restriction, or raising the line's rate by more than the
 * threshold (a cut only lowers what the borrower pays: it applies at once) waits for a checker.
 */
function lineActionGate(
  deps: { fourEyes: FourEyes; core: CoreServices; store: Store },
  propose: Propose,
): FourEyesGates['lineAction'] {
  const { fourEyes, core, store } = deps;
  return async (lineId, action, maker, guard) => {
    const proposeFor = async (
      operation: 'line.limit_increase' | 'line.lift_fraud_restriction' | 'line.rate_change',
    ) => {
      if (!(await needsChecker(fourEyes, maker))) return undefined;
      // What can be judged now is judged now, with the error the action itself would give: a checker is never asked
      // to approve a "raise" below the current limit, a raise of a suspended line, a raise past the cap.
      await checkLineAction(core.deps, lineId, { ...action, automated: false, actor: maker.actor });
      return propose(
        {
          operation,
          subjectId: lineId,
          payload: { lineId, action },
          diff: { lineId, ...action },
          reason: action.note ?? action.type,
        },
        maker,
        guard,
      );
    };
    const raises = action.type === 'LIMIT_INCREASE' || action.type === 'TEMP_LIMIT';
    if (
      raises &&
      fourEyes.requires('line.limit_increase') &&
      (action.limitMinor ?? 0) >= fourEyes.config.limitIncreaseThresholdMinor
    )
      return proposeFor('line.limit_increase');
    const lifts = action.type === 'UNFREEZE' || action.type === 'REINSTATE';
    if (lifts && fourEyes.requires('line.lift_fraud_restriction')) {
      const line = await lineRow(store.db, lineId);
      if (line && (await liftsFraudRestriction(core.deps, line, action.type)))
        return proposeFor('line.lift_fraud_restriction');
    }
    if (action.type === 'RATE_CHANGE' && fourEyes.requires('line.rate_change')) {
      // Judged on the rate read now; the action itself looks again under the line's lock (unlessRateRaised), so a
      // cut that another process's cut turned into a raise comes back here rather than applying.
      const line = await lineRow(store.db, lineId);
      if (
        line &&
        raisesRateBeyond(line.annual_rate, action.annualRate, fourEyes.config.rateRaiseThresholdBps)
      )
        return proposeFor('line.rate_change');
    }
    return undefined;
  };
}

/** Float noise in a rate given in decimals (0.23 × 10,000 is 2300.0000000000005), not a fraction of a basis point. */
const BPS_EPSILON = 1e-6;

/** Whether a rate change from `from` to `to` raises the rate by more than `thresholdBps` basis points. */
function raisesRateBeyond(from: number, to: number | undefined, thresholdBps: number): boolean {
  return (
    to !== undefined &&
    to > from &&
    (to - from) * 10_000 > thresholdBps + (thresholdBps > 0 ? BPS_EPSILON : 0)
  );
}

function activationGates(
  fourEyes: FourEyes,
  engine: Pick<EngineService, 'checkActivation'>,
  propose: Propose,
): Pick<FourEyesGates, 'strategyActivation' | 'modelActivation'> {
  return {
    async strategyActivation(id, version, maker, guard) {
      if (!fourEyes.requires('strategy.activate') || !(await needsChecker(fourEyes, maker))) return undefined;
      // Judged now, with the error the activation would give: no checker is asked to approve what cannot apply.
      await engine.checkActivation(id, version);
      return propose(
        {
          operation: 'strategy.activate',
          subjectId: id,
          payload: { id, version },
          diff: { strategyId: id, activate: version },
          reason: `activate ${id} v${version}`,
        },
        maker,
        guard,
      );
    },
    async modelActivation(id, version, maker, guard) {
      if (!fourEyes.requires('model.activate') || !(await needsChecker(fourEyes, maker))) return undefined;
      return propose(
        {
          operation: 'model.activate',
          subjectId: id,
          payload: { id, version },
          diff: { modelId: id, activate: version },
          reason: `activate model ${id} v${version}`,
        },
        maker,
        guard,
      );
    },
  };
}

function overlayAndListGates(
  fourEyes: FourEyes,
  propose: Propose,
): Pick<FourEyesGates, 'overlay' | 'listAdd' | 'listRemove'> {
  return {
    async overlay(input, maker, guard) {
      if (!fourEyes.requires('overlay.change') || !(await needsChecker(fourEyes, maker))) return undefined;
      return propose(
        {
          operation: 'overlay.change',
          subjectId: input.name,
          payload: input,
          diff: { overlay: input.name, to: input.value },
          reason: input.description ?? `overlay ${input.name}`,
        },
        maker,
        guard,
      );
    },
    async listAdd(entry, maker, guard) {
      if (!fourEyes.requires('list.add') || !(await needsChecker(fourEyes, maker))) return undefined;
      return propose(
        {
          operation: 'list.add',
          subjectId: `${entry.list}:${entry.entityType}`,
          payload: entry,
          diff: { add: entry },
          reason: entry.reason,
        },
        maker,
        guard,
      );
    },
    async listRemove(entryId, maker, guard) {
      if (!fourEyes.requires('list.remove') || !(await needsChecker(fourEyes, maker))) return undefined;
      return propose(
        {
          operation: 'list.remove',
          subjectId: entryId,
          payload: { entryId },
          diff: { remove: entryId },
          reason: `remove list entry ${entryId}`,
        },
        maker,
        guard,
      );
    },
  };
}

/**
 * The lists' exchange with partners, bound as adding and removing entries are: an import adds entries (`list.add`), so
 * an admin person cannot list a device, borrower or payee alone under a key they chose for a made-up partner; replacing
 * a partner's key unhooks every entry imported under the old one (`list.remove`). A partner's first key unhooks
 * nothing and is not gated (importing under it is), nor is re-setting the key it has (a no-op, ListService).
 */
function listSharingGates(
  fourEyes: FourEyes,
  propose: Propose,
): Pick<FourEyesGates, 'listImport' | 'partnerKeyReplacement'> {
  return {
    async listImport(shared, summary, maker, guard) {
      if (!fourEyes.requires('list.add') || !(await needsChecker(fourEyes, maker))) return undefined;
      const payload: ListImportPayload = { kind: 'list.import', shared };
      return propose(
        {
          operation: 'list.add',
          subjectId: `partner:${shared.partnerId}`,
          payload,
          // What the checker reads: who shared, under which key, how many of each; the HMACs are in the payload.
          diff: { import: summary },
          reason: `import ${summary.entries} shared list entries from partner ${shared.partnerId} (key ${summary.keyFingerprint})`,
        },
        maker,
        guard,
      );
    },
    async partnerKeyReplacement(replacement, maker, guard) {
      if (!fourEyes.requires('list.remove') || !(await needsChecker(fourEyes, maker))) return undefined;
      const { partnerId, keySealed, keyFingerprint, previousFingerprint, entriesUnhooked } = replacement;
      const payload: PartnerKeyPayload = {
        kind: 'list.partner_key',
        partnerId,
        keySealed,
        keyFingerprint,
        previousFingerprint,
      };
      return propose(
        {
          operation: 'list.remove',
          subjectId: `partner:${partnerId}`,
          payload,
          // Fingerprints only: the key itself is sealed in the payload.
          diff: { partnerKey: { partnerId, from: previousFingerprint, to: keyFingerprint, entriesUnhooked } },
          reason: `replace the sharing key agreed with partner ${partnerId} (${previousFingerprint} -> ${keyFingerprint})`,
        },
        maker,
        guard,
      );
    },
  };
}

/** The operations whose module writes in its own unit of work: applied right after the approval commits. */
export function registerModuleOperations(
  fourEyes: FourEyes,
  engine: EngineService,
  monitor: MonitorService,
  models: Pick<ModelRegistry, 'activate'>,
): void {
  fourEyes.register('model.activate', {
    applyAfterApproval: async (payload, context) => {
      const p = payload as { id: string; version: number };
      return models.activate(p.id, p.version, context.maker);
    },
  });
  fourEyes.register('strategy.activate', {
    applyAfterApproval: async (payload, context) => {
      const p = payload as { id: string; version: number };
      return engine.activate(p.id, p.version, context.maker);
    },
  });
  fourEyes.register('overlay.change', {
    applyAfterApproval: async (payload, context) => {
      const p = payload as { name: string; value: number | string | boolean; description?: string };
      return engine.setOverlay(p.name, p.value, context.maker, p.description);
    },
  });
  fourEyes.register('list.add', {
    applyAfterApproval: async (payload, context) =>
      isListImport(payload)
        ? monitor.lists.importFrom(payload.shared, context.maker)
        : monitor.lists.add({ ...(payload as Omit<NewListEntry, 'addedBy'>), addedBy: context.maker }),
  });
  fourEyes.register('list.remove', {
    applyAfterApproval: async (payload, context) => {
      if (isPartnerKeyChange(payload)) return monitor.lists.setSealedPartnerKey(payload);
      // The removal is the maker's, as an entry added through four eyes is; the checker is on `change.approved`.
      await monitor.lists.remove((payload as { entryId: string }).entryId, context.maker);
      return { removed: (payload as { entryId: string }).entryId };
    },
  });
}
