import type { EventType } from '../events.js';
import type { FeatureEntry } from '../features/store.js';
import type { ParameterSpec, TypologyContext, TypologyHit } from './types.js';
import { DAY } from './types.js';

/** Parameters every pack has. */
export const COMMON_PARAMETERS: Readonly<Record<string, ParameterSpec>> = {
  alertDedupWindowMs: {
    default: 7 * DAY,
    description:
      'a second firing for the same borrower within this window joins the open alert instead of raising a new one',
  },
};

/**
 * A pack fires on its act (a transfer, a draw) and reads the evidence before it. Evidence that arrives after the act
 * (an SDK uploading a call or a login late, a credential event queued elsewhere) is judged from the borrower's latest
 * instant (AccountMemory.evaluationInstant), so ctx.at is later than the event only for such a late piece. This is
 * the borrower's latest act at or after the piece, up to ctx.at: the evaluation the piece would have joined had it
 * arrived in time. Undefined for a piece that arrived in order (nothing after it to judge again).
 */
export async function actAfterLatePiece(
  ctx: TypologyContext,
  acts: readonly EventType[],
): Promise<FeatureEntry | undefined> {
  const pieceAt = ctx.event.occurredAt;
  if (ctx.at <= pieceAt) return undefined;
  const after = await ctx.window('user', ctx.event.userId, acts, pieceAt - 1, ctx.at);
  return after[after.length - 1];
}

/** The same reads as of an earlier instant: a pack judged as of the act a late piece belongs to. */
export function asOf(ctx: TypologyContext, at: number): TypologyContext {
  return {
    event: ctx.event,
    at,
    features: ctx.features,
    graph: ctx.graph,
    window: (entity, id, types, fromMs, toMs, knownAt) =>
      ctx.window(entity, id, types, fromMs, toMs, knownAt),
    listHits: (entityType, value) => ctx.listHits(entityType, value),
    num: (name) => ctx.num(name),
    strings: (name) => ctx.strings(name),
  };
}

/** A hit found by judging an act again, with the act among its evidence. */
export function withAct(hit: TypologyHit | null, act: FeatureEntry): TypologyHit | null {
  if (!hit || hit.eventIds.includes(act.eventId)) return hit;
  return { ...hit, eventIds: [...hit.eventIds, act.eventId] };
}
