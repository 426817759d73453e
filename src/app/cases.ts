import type { ModelRegistry } from '../scoring/index.js';
import type { FastifyPluginAsync } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../domain/index.js';
import type { IdGenerator } from '../domain/index.js';
import type { RandomSource } from '../domain/index.js';
import { appendToLedger, type FieldCrypto } from '../compliance/index.js';
import {
  caseRows,
  createCaseDecisionReads,
  createCaseIntakeReads,
  drawRow,
  openedDrawRow,
  type DbTx,
  type Store,
} from '../store/index.js';
import {
  applyActionInTx,
  approveReviewInTx,
  checkReviewApprovalInTx,
  cancelHeldDrawInTx,
  declineReviewInTx,
  releaseDueCooldowns,
  releaseHeldDrawInTx,
  checkHeldDrawReleaseInTx,
  stopCooldownInTx,
  lockedLimitCutOf,
  lockedStandingRestrictions,
  restrictedLines,
  type CoreServices,
} from '../core/index.js';
import type { MonitorService } from '../monitor/index.js';
import {
  createCaseService,
  type CaseCorePort,
  type CaseDisputePort,
  type CaseService,
} from '../cases/index.js';
import type { CasesSettings } from './cases-config.js';
import { caseRoutes } from '../api/index.js';
import { meRoutes } from '../api/index.js';
import { userRoutes } from '../api/index.js';
import type { EngineService } from '../engine/index.js';
import {
  createGates,
  registerModuleOperations,
  registerStaffOperations,
  type FourEyesGates,
} from './four-eyes-ops.js';

/**
 * Wires src/cases to the core and the monitor: the ports it declares, the alert hook, immediate intake after a
 * request that leaves work, and the jobs timer (intake sweep, SLA escalation, cooling-off releases, change expiry).
 */
export interface CasesWiring {
  readonly service: CaseService;
  /** The core as routes and the monitor should call it: work a request leaves opens its case at once. */
  wrapCore(core: CoreServices): CoreServices;
  bindCore(core: CoreServices): void;
  bindMonitor(monitor: MonitorService): void;
  /** Credit-report disputes and the bureau outbox they send corrections through (src/compliance). */
  bindDisputes(
    disputes: Pick<CaseDisputePort, 'checkTarget' | 'record' | 'decide'>,
    outbox: { flush(): Promise<unknown> },
  ): void;
  /** Registers the four-eyes operations of the engine and the monitor (their writes run their own units). */
  bindModules(engine: EngineService, monitor: MonitorService, models: Pick<ModelRegistry, 'activate'>): void;
  /** The hooks the existing routes call before a four-eyes operation (after bindCore). */
  gates(): FourEyesGates;
  routes(): FastifyPluginAsync[];
  /** Runs every case job once (the timer runs it; tests and `lineguard cases sweep` call it directly). */
  runJobs(): Promise<CaseJobsResult>;
  start(): void;
  stop(): Promise<void>;
}

export interface CaseJobsResult {
  readonly casesOpened: number;
  readonly slaBreached: number;
  readonly cooldownsReleased: number;
  readonly cooldownsStopped: number;
  readonly changesExpired: number;
}

export interface WireCasesOptions {
  store: Store;
  /** Opens the decisions' sealed contexts and traces a case shows as evidence; seals appeals' and complaints' texts. */
  crypto: FieldCrypto;
  clock: Clock;
  ids: IdGenerator;
  random: RandomSource;
  metrics: Registry;
  settings: CasesSettings;
  appealDays?: number;
  /** The lender's calendar (LINEGUARD_LENDER_UTC_OFFSET): the days a borrower is shown. */
  lenderUtcOffsetMinutes?: number;
}

/** What the app binds after the case service exists (the core, the monitor and disputes are wired later). */
interface LateBindings {
  core?: CoreServices;
  monitor?: MonitorService;
  gates?: FourEyesGates;
  disputes?: CaseDisputePort;
}

export function wireCases(a: WireCasesOptions): CasesWiring {
  const late: LateBindings = {};
  const coreOf = (): CoreServices => {
    if (!late.core) throw new Error('the core is not wired yet');
    return late.core;
  };
  const service = createWiredCaseService(a, late, caseCorePort(a.store, coreOf));
  const runJobs = caseJobsRunner(a.settings, late, service);
  return {
    service,
    wrapCore: (core) => wrapCoreWithIntake(core, service),
    ...lateBinders(a, late, service),
    routes: () => [
      caseRoutes({ cases: service, core: () => coreOf() }),
      meRoutes({ cases: service, core: () => coreOf() }),
      userRoutes({
        store: a.store,
        clock: a.clock,
        ids: a.ids,
        random: a.random,
        fourEyes: service.fourEyes,
      }),
    ],
    runJobs,
    ...caseJobsTimer(a.settings, runJobs),
  };
}

/** The core as the case service calls it: inside the case's transaction, through the core wired later. */
function caseCorePort(store: Store, coreOf: () => CoreServices): CaseCorePort {
  return {
    approveReview: (tx: DbTx, id, input) => approveReviewInTx(coreOf().deps, tx, id, input),
    checkReviewApproval: (tx: DbTx, id, input) => checkReviewApprovalInTx(coreOf().deps, tx, id, input),
    declineReview: (tx: DbTx, id, input) => declineReviewInTx(coreOf().deps, tx, id, input),
    releaseDraw: (tx: DbTx, drawId, actor, allowed) =>
      releaseHeldDrawInTx(coreOf().deps, tx, drawId, { actor, ...(allowed ? { allowed } : {}) }),
    checkDrawRelease: (tx: DbTx, drawId) => checkHeldDrawReleaseInTx(coreOf().deps, tx, drawId),
    cancelDraw: (tx: DbTx, drawId, input) => cancelHeldDrawInTx(coreOf().deps, tx, drawId, input),
    stopCooldown: (tx: DbTx, drawId, input) => stopCooldownInTx(coreOf().deps, tx, drawId, input),
    async drawOwner(drawId) {
      const row = await drawRow(store.db, drawId);
      return row ? { lineId: row.line_id, borrowerId: row.borrower_id, status: row.status } : undefined;
    },
    async lineAction(tx: DbTx, lineId, input) {
      const done = await applyActionInTx(coreOf().deps, tx, lineId, input);
      await appendToLedger(tx, [done.ledger]);
      return {
        actionId: done.result.actionId,
        outcome: done.result.outcome,
        newStatus: done.result.newStatus,
        prevLimitMinor: done.result.prevLimitMinor,
        newLimitMinor: done.result.newLimitMinor,
        clipped: done.result.clipped,
      };
    },
    explainLine: (lineId, lang) => coreOf().explainLine(lineId, lang),
    lockedStandingRestrictions: (tx: DbTx, lineId) => lockedStandingRestrictions(coreOf().deps, tx, lineId),
    lockedLimitCutOf: (tx: DbTx, lineId, targetId) => lockedLimitCutOf(coreOf().deps, tx, lineId, targetId),
    async restrictedLines() {
      return (await restrictedLines(coreOf().deps)).flatMap((r) =>
        r.standing.map((restriction) => ({
          lineId: r.line.id,
          borrowerId: r.line.borrower_id,
          status: r.line.status,
          restrictionId: restriction.action.id,
          reasons: restriction.reasons,
        })),
      );
    },
  };
}

/** The case service over the store, with its SLA-breach counter and the monitor and disputes bound late. */
function createWiredCaseService(
  a: WireCasesOptions,
  late: LateBindings,
  corePort: CaseCorePort,
): CaseService {
  const breaches = new Counter({
    name: 'lineguard_case_sla_breaches_total',
    help: 'Cases that passed their SLA due time unresolved, by case type',
    labelNames: ['type'] as const,
    registers: [a.metrics],
  });
  return createCaseService(
    {
      store: a.store,
      // A draw's sealed device, IP and payee opened as its evidence shows them. Every other read is caseRows' own,
      // looked up on it at each call (a prototype, not a copy): the race suites stall one of them in place.
      rows: Object.assign(Object.create(caseRows) as typeof caseRows, { drawRow: openedDrawRow(a.crypto) }),
      clock: a.clock,
      ids: a.ids,
      config: { ...a.settings.cases, lenderUtcOffsetMinutes: a.lenderUtcOffsetMinutes },
      core: corePort,
      intake: createCaseIntakeReads(a.store),
      decisions: createCaseDecisionReads(a.store.db, a.crypto),
      crypto: a.crypto,
      monitor: {
        closeAlert: async (alertId) => late.monitor?.setAlertStatus(alertId, 'CLOSED'),
        listHits: (borrowerId) => late.monitor?.listHits('user', borrowerId, a.clock.now()) ?? [],
      },
      metrics: { slaBreached: (type) => breaches.inc({ type }) },
      disputes: () => late.disputes,
    },
    a.settings.fourEyes,
    a.appealDays,
  );
}

/** One run of every case job: cooling-off releases (once the core is bound), intake, SLA sweep, change expiry. */
function caseJobsRunner(
  settings: CasesSettings,
  late: LateBindings,
  service: CaseService,
): () => Promise<CaseJobsResult> {
  return async () => {
    const cooldowns = late.core
      ? await releaseDueCooldowns(late.core.deps, { coolingOffMs: settings.cases.coolingOffMs })
      : { released: [], stopped: [] };
    // A draw the job stopped (HOLD) becomes work for a person a cooling-off period after it was made, far behind where
    // the sweep reads by time: its case opens at once, as after a person's stop. Should this process stop first, the
    // sweep opens it: on PostgreSQL any process's (the stop restamps the draw, migration 139), on SQLite the first
    // one after the restart (it looks back LINEGUARD_CASE_INTAKE_LOOKBACK_MS).
    let casesOpened = 0;
    for (const drawId of cooldowns.stopped) casesOpened += await intakeAfterJob(service, drawId);
    casesOpened += await service.intake();
    const { breached } = await service.sweepSla();
    const changesExpired = await service.fourEyes.expireDue();
    return {
      casesOpened,
      slaBreached: breached.length,
      cooldownsReleased: cooldowns.released.length,
      cooldownsStopped: cooldowns.stopped.length,
      changesExpired,
    };
  };
}

function intakeAfterJob(service: CaseService, drawId: string): Promise<number> {
  // A failure must not stop the other jobs; on PostgreSQL the next sweep opens it.
  return service.intakeSubject({ kind: 'draw', id: drawId }).catch(() => 0);
}

/** The core with intake right after a request that leaves work for a person. */
function wrapCoreWithIntake(core: CoreServices, service: CaseService): CoreServices {
  const intakeAfter = (subject: Parameters<CaseService['intakeSubject']>[0]) =>
    service.intakeSubject(subject).catch(() => 0); // the sweep opens it if this fails
  return {
    ...core,
    async submitApplication(input, guard) {
      const result = await core.submitApplication(input, guard);
      if (result.outcome === 'REVIEW') await intakeAfter({ kind: 'application', id: result.applicationId });
      return result;
    },
    async requestDraw(lineId, input, guard) {
      const result = await core.requestDraw(lineId, input, guard);
      if (result.status === 'HOLD' || result.status === 'REVIEW')
        await intakeAfter({ kind: 'draw', id: result.drawId });
      return result;
    },
    async runReviewJob(asOf) {
      const result = await core.runReviewJob(asOf);
      // Fraud restrictions whose cause cleared wait for a person (lifting them needs four eyes).
      return { ...result, reinstatementCasesOpened: await service.reviewRestrictions() };
    },
    async applyLineAction(lineId, input, guard) {
      const result = await core.applyLineAction(lineId, input, guard);
      if (result.outcome === 'REVIEW') await intakeAfter({ kind: 'line_action', id: result.actionId });
      return result;
    },
  };
}

/** Binding the core, the monitor, disputes and the modules' four-eyes operations, and the gates that follow. */
function lateBinders(
  a: WireCasesOptions,
  late: LateBindings,
  service: CaseService,
): Pick<CasesWiring, 'bindCore' | 'bindMonitor' | 'bindDisputes' | 'bindModules' | 'gates'> {
  return {
    bindCore(core) {
      late.core = core;
      registerStaffOperations(service.fourEyes, {
        core,
        store: a.store,
        clock: a.clock,
        ids: a.ids,
        random: a.random,
      });
    },
    bindMonitor(monitor) {
      late.monitor = monitor;
    },
    bindDisputes(disputes, outbox) {
      late.disputes = {
        checkTarget: (borrowerId, target) => disputes.checkTarget(borrowerId, target),
        record: (tx, row) => disputes.record(tx, row),
        decide: (tx, id, decision) => disputes.decide(tx, id, decision),
        flush: () => outbox.flush(),
      };
    },
    bindModules(engine, monitor, models) {
      registerModuleOperations(service.fourEyes, engine, monitor, models);
      if (!late.core) throw new Error('bind the core before the modules');
      late.gates = createGates(service.fourEyes, { core: late.core, store: a.store, engine });
    },
    gates() {
      if (!late.gates) throw new Error('bind the core and the modules before asking for the four-eyes gates');
      return late.gates;
    },
  };
}

/** The jobs timer: one run at a time, never keeping the process alive; stop waits for the run in flight. */
function caseJobsTimer(
  settings: CasesSettings,
  runJobs: () => Promise<CaseJobsResult>,
): Pick<CasesWiring, 'start' | 'stop'> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  return {
    start() {
      if (settings.jobsIntervalMs === 0 || timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = runJobs()
          .catch((error: unknown) =>
            process.emitWarning(
              `case jobs failed: ${error instanceof Error ? error.message : String(error)}`,
              'LineGuardWarning',
            ),
          )
          .finally(() => (running = undefined));
      }, settings.jobsIntervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
