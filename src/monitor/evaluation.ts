import { getReason, isKnownReason, type IdGenerator } from '../domain/index.js';
import {
  ANTI_SCAM_WARNING,
  LINE_ACTIONS,
  type ActionTaken,
  type MonitorActionType,
  type Severity,
} from './actions.js';
import { actionTrail } from './action-trail.js';
import type { EventType, MonitorEvent } from './events.js';
import type { FeatureReader } from './features/registry.js';
import type { EntityType, FeatureEntry, WindowQuery } from './features/store.js';
import type { EntityGraph } from './links.js';
import type { ListEntityType, ListHit } from './lists.js';
import type { AlertPort, AuditTrail, NewAction, NewAlert } from './ports.js';
import {
  DEFAULT_TYPOLOGIES,
  resolveParameters,
  type ParamValue,
  type ParameterOverrides,
  type TypologyContext,
  type TypologyHit,
  type TypologyPack,
} from './typologies/index.js';

export interface FiredTypology {
  readonly id: string;
  readonly version: number;
  readonly rules: readonly string[];
}

export interface RaisedAlert {
  readonly alertId: string;
  readonly typology: string;
  readonly severity: Severity;
  readonly userId: string;
  /** false when the firing joined an alert already open for this borrower and typology. */
  readonly new: boolean;
}

/** What an event found: the typologies that fired, the alerts they raised and the actions taken. */
export interface Findings {
  readonly typologies: readonly FiredTypology[];
  readonly alerts: readonly RaisedAlert[];
  readonly actions: readonly ActionTaken[];
}

/** The result of an event that fired nothing (most events): one shared, frozen object and its JSON, built once. */
export const NO_FINDINGS: Findings = Object.freeze({
  typologies: Object.freeze([]),
  alerts: Object.freeze([]),
  actions: Object.freeze([]),
});
const NO_FINDINGS_JSON = JSON.stringify(NO_FINDINGS);

/** The answer as stored: our own object, built in a fixed key order, so plain JSON is already stable. */
export function findingsJson(findings: Findings): string {
  return findings === NO_FINDINGS ? NO_FINDINGS_JSON : JSON.stringify(findings);
}

/**
 * The narrow read port evaluation gets: registered features, raw windows, lists, entity links and line facts, all
 * answered from memory or the feature store — never the database, never the intake.
 */
export interface TypologyReads {
  readonly features: FeatureReader;
  readonly graph: EntityGraph;
  window(query: WindowQuery): Promise<FeatureEntry[]>;
  listHits(entityType: ListEntityType, value: string, at: number): readonly ListHit[];
  /** The borrower's credit line as the core's events told it: `named` if the core named it for them, else the latest. */
  lineOf(userId: string, named?: string): string | undefined;
}

/** What a group's evaluation leaves for its unit of work. */
export interface GroupFindings {
  readonly alerts: NewAlert[];
  readonly actions: NewAction[];
  readonly audit: (AuditTrail & { readonly eventId: string })[];
}

export interface EvaluatorDeps {
  readonly reads: TypologyReads;
  readonly alerts: AlertPort;
  readonly ids: IdGenerator;
  readonly typologies?: readonly TypologyPack[];
  readonly parameters?: ParameterOverrides;
  /** Whether line actions can reach the core (else they are recorded SKIPPED). */
  readonly lineActionsWired: boolean;
  readonly onError?: (error: unknown, context: string) => void;
}

/** One firing of one pack on one event. */
interface Firing {
  readonly pack: TypologyPack;
  readonly event: MonitorEvent;
  readonly hit: TypologyHit;
  readonly reasons: readonly string[];
  readonly now: number;
}

/** Runs the typology packs on an event and turns their hits into alerts (through the alert port) and actions. */
export class Evaluator {
  readonly typologies: readonly TypologyPack[];
  private readonly params = new Map<string, ReadonlyMap<string, ParamValue>>();

  constructor(private readonly deps: EvaluatorDeps) {
    this.typologies = deps.typologies ?? DEFAULT_TYPOLOGIES;
    for (const pack of this.typologies) this.params.set(pack.id, resolveParameters(pack, deps.parameters));
  }

  parameter(typologyId: string, name: string): ParamValue | undefined {
    return this.params.get(typologyId)?.get(name);
  }

  /** Evaluates one event as of `at`; what it raises is appended to `out` for the group's unit of work. */
  async evaluate(event: MonitorEvent, at: number, now: number, out: GroupFindings): Promise<Findings> {
    if (this.deps.reads.listHits('user', event.userId, at).some((h) => h.list === 'white'))
      return NO_FINDINGS;
    const fired: FiredTypology[] = [];
    const alerts: RaisedAlert[] = [];
    const actions: ActionTaken[] = [];
    const triggered = this.typologies.filter((pack) => pack.triggers.includes(event.type));
    // Packs only read. Run together, their reads of a shared feature store leave together (ioredis pipelines what is
    // asked in one turn) instead of a round trip per pack; their hits are still handled one pack after another.
    const hits = await Promise.all(triggered.map((pack) => this.run(pack, event, at)));
    for (const [i, pack] of triggered.entries()) {
      const hit = hits[i];
      if (!hit) continue;
      fired.push({ id: pack.id, version: pack.version, rules: hit.rules });
      const reasons = [...new Set([...pack.reasons, ...(hit.extraReasons ?? [])])];
      const firing: Firing = { pack, event, hit, reasons, now };
      for (const userId of [event.userId, ...(hit.relatedUsers ?? [])]) {
        const alert = this.raise(firing, userId, out);
        alerts.push(alert);
        if (alert.new && userId === event.userId) actions.push(...this.act(firing, alert.alertId, out));
      }
    }
    return fired.length === 0 && alerts.length === 0 && actions.length === 0
      ? NO_FINDINGS
      : { typologies: fired, alerts, actions };
  }

  /** A pack that throws is reported and skipped: one faulty pack does not stop the others. */
  private async run(pack: TypologyPack, event: MonitorEvent, at: number): Promise<TypologyHit | null> {
    try {
      return await pack.evaluate(
        new PackContext(this.deps.reads, {
          packId: pack.id,
          params: this.params.get(pack.id) as ReadonlyMap<string, ParamValue>,
          event,
          at,
        }),
      );
    } catch (error) {
      this.deps.onError?.(error, `typology ${pack.id}`);
      return null;
    }
  }

  private raise(f: Firing, userId: string, out: GroupFindings): RaisedAlert {
    const own = userId === f.event.userId;
    // The line is the core's record, never the event's word alone (an app event may name any line).
    const lineId = this.deps.reads.lineOf(userId, own ? f.event.lineId : undefined) ?? null;
    const raised = this.deps.alerts.raise({
      typologyId: f.pack.id,
      typologyVersion: f.pack.version,
      severity: f.pack.severity,
      userId,
      lineId,
      eventId: f.event.eventId,
      occurredAt: f.event.occurredAt,
      now: f.now,
      reasons: f.reasons,
      evidence: {
        rules: f.hit.rules,
        eventIds: f.hit.eventIds,
        features: f.hit.features,
        relatedUsers: f.hit.relatedUsers ?? [],
      },
      actions: own ? f.pack.actions : [],
      dedupMs: Number(this.parameter(f.pack.id, 'alertDedupWindowMs') ?? 0),
    });
    if (raised.new) {
      out.alerts.push(raised.alert);
      out.audit.push({ ...raised.audit, eventId: f.event.eventId });
    }
    return {
      alertId: raised.alertId,
      typology: f.pack.id,
      severity: f.pack.severity,
      userId,
      new: raised.new,
    };
  }

  /** The pack's actions for a new alert: instructions in the answer, line actions queued for the core after commit. */
  private act(f: Firing, alertId: string, out: GroupFindings): ActionTaken[] {
    return f.pack.actions.map((type: MonitorActionType) => {
      const { taken, action } = this.plan(f, type, alertId);
      out.actions.push(action);
      out.audit.push({
        ...actionTrail(this.deps.ids, { kind: 'monitor.action', action, at: f.now }),
        eventId: f.event.eventId,
      });
      return taken;
    });
  }

  private plan(
    f: Firing,
    type: MonitorActionType,
    alertId: string,
  ): { taken: ActionTaken; action: NewAction } {
    const actionId = this.deps.ids.next();
    const lineId = this.deps.reads.lineOf(f.event.userId, f.event.lineId);
    const isLine = LINE_ACTIONS.has(type);
    const status: ActionTaken['status'] = !isLine
      ? 'INSTRUCTED'
      : lineId && this.deps.lineActionsWired
        ? 'PENDING'
        : 'SKIPPED';
    const cooldownMs =
      type === 'COOLDOWN' ? Number(this.parameter(f.pack.id, 'cooldownMs') ?? 86_400_000) : undefined;
    const reasons = isLine ? lineReasons(f.reasons) : f.reasons;
    const taken: ActionTaken = {
      actionId,
      type,
      status,
      reasons,
      ...(isLine && lineId ? { lineId } : {}),
      ...(cooldownMs === undefined ? {} : { cooldownMs, warning: ANTI_SCAM_WARNING }),
    };
    const why =
      status !== 'SKIPPED'
        ? ''
        : lineId
          ? 'no line-action port wired'
          : 'no credit line known for the borrower';
    const action: NewAction = {
      actionId,
      alertId,
      eventId: f.event.eventId,
      type,
      userId: f.event.userId,
      lineId: isLine ? (lineId ?? null) : null,
      status: status === 'INSTRUCTED' ? 'DONE' : status,
      detail: { reasons, detail: why, ...(cooldownMs === undefined ? {} : { cooldownMs }) },
      createdAt: f.now,
    };
    return { taken, action };
  }
}

/**
 * The reasons a line action records: the finding's, without those about one drawdown (category 'draw': R_COOLING_OFF
 * says "this drawdown will be paid out after a short delay"), which the borrower would otherwise read in the
 * explanation of a freeze of their whole line. All of them when every one is about a drawdown.
 */
function lineReasons(reasons: readonly string[]): readonly string[] {
  const aboutTheLine = reasons.filter((code) => !isKnownReason(code) || getReason(code).category !== 'draw');
  return aboutTheLine.length > 0 ? aboutTheLine : reasons;
}

/** A typology's view for one event; methods on the prototype, so evaluating a pack allocates one small object. */
class PackContext implements TypologyContext {
  readonly event: MonitorEvent;
  readonly at: number;
  private readonly packId: string;
  private readonly params: ReadonlyMap<string, ParamValue>;

  constructor(
    private readonly reads: TypologyReads,
    o: { packId: string; params: ReadonlyMap<string, ParamValue>; event: MonitorEvent; at: number },
  ) {
    this.packId = o.packId;
    this.params = o.params;
    this.event = o.event;
    this.at = o.at;
  }

  get features(): FeatureReader {
    return this.reads.features;
  }

  get graph(): EntityGraph {
    return this.reads.graph;
  }

  window(
    entity: EntityType,
    id: string,
    types: readonly EventType[],
    fromMs: number,
    toMs: number,
    knownAt?: number,
  ): Promise<FeatureEntry[]> {
    return this.reads.window({ entity, id, types, fromMs, toMs, knownAt });
  }

  listHits(entityType: ListEntityType, value: string | undefined): readonly ListHit[] {
    return value === undefined ? [] : this.reads.listHits(entityType, value, this.at);
  }

  num(name: string): number {
    const v = this.params.get(name);
    if (typeof v !== 'number') throw new Error(`typology ${this.packId}: parameter ${name} is not a number`);
    return v;
  }

  strings(name: string): readonly string[] {
    const v = this.params.get(name);
    if (!Array.isArray(v)) throw new Error(`typology ${this.packId}: parameter ${name} is not a list`);
    return v as readonly string[];
  }
}
