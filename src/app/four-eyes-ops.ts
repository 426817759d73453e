import type { Clock } from '../domain/clock.js';
import type { IdGenerator } from '../domain/ids.js';
import type { RandomSource } from '../domain/random.js';
import type { LineActionType } from '../domain/decision.js';
import { LgError } from '../domain/errors.js';
import { appendToLedger } from '../compliance/ledger.js';
import type { DbTx, Store } from '../store/db.js';
import { applyActionInTx, type CoreServices } from '../core/index.js';
import type { ApplyContext, ChangeOperation, FourEyes } from '../cases/index.js';

/**
 * Apply functions for the staff operations on the four-eyes list that act on core facts: a manual line action that
 * needs a second person (a large limit increase, lifting a fraud restriction) and creating an admin key. Each runs in
 * the approval's dbTx, so the change and its approval commit together.
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

function lineActionOperation(core: CoreServices): ChangeOperation {
  return {
    async apply(tx: DbTx, payload: unknown, context: ApplyContext) {
      const p = payload as LineActionPayload;
      const done = await applyActionInTx(core.deps, tx, p.lineId, {
        ...p.action,
        automated: false,
        actor: context.maker,
        note: `${p.action.note ?? ''} (approved by ${context.checker}, change ${context.changeId})`.trim(),
      });
      await appendToLedger(tx, [done.ledger]);
      return done.result;
    },
  };
}

function adminKeyOperation(deps: { clock: Clock; ids: IdGenerator }): ChangeOperation {
  return {
    async apply(tx: DbTx, payload: unknown, context: ApplyContext) {
      const p = payload as AdminKeyPayload;
      const user = await tx.selectFrom('users').selectAll().where('id', '=', p.userId).executeTakeFirst();
      if (!user || user.disabled_at !== null || user.role !== 'admin')
        throw new LgError('LG_CONFLICT', 'the user is no longer an active admin', { userId: p.userId });
      const now = deps.clock.now();
      await tx
        .insertInto('api_keys')
        .values({
          id: p.keyId,
          key_hash: p.keyHash,
          role: 'admin',
          label: p.label,
          created_at: now,
          revoked_at: null,
          user_id: p.userId,
        })
        .execute();
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

/** Registers the staff operations; a case outcome under the same name keeps its own apply (payload with caseId). */
export function registerStaffOperations(
  fourEyes: FourEyes,
  deps: { core: CoreServices; store: Store; clock: Clock; ids: IdGenerator; random: RandomSource },
): void {
  const lineAction = lineActionOperation(deps.core);
  fourEyes.register('line.limit_increase', lineAction);
  const resolution = fourEyes.operation('line.lift_fraud_restriction');
  fourEyes.register('line.lift_fraud_restriction', {
    apply: (tx, payload, context) =>
      typeof payload === 'object' && payload !== null && 'caseId' in payload && resolution
        ? resolution.apply(tx, payload, context)
        : lineAction.apply(tx, payload, context),
  });
  fourEyes.register('api_key.create_admin', adminKeyOperation(deps));
}
