import { pingStore, type Store } from '../store/index.js';

/** One dependency's state as /health reports it. */
export interface DependencyStatus {
  readonly ok: boolean;
  readonly detail?: string;
}

/** Something /health can ask about: the store, the feature store, the bus. */
export interface HealthProbe {
  readonly name: string;
  check(): Promise<DependencyStatus> | DependencyStatus;
}

/** A probe that does not answer within this is reported down (a hung dependency must not hang /health). */
const PROBE_TIMEOUT_MS = 2_000;

/** The store answers a trivial query. */
export function storeProbe(store: Store): HealthProbe {
  return {
    name: 'store',
    async check() {
      await pingStore(store);
      return { ok: true };
    },
  };
}

/** A dependency that reports its own status (RedisFeatureStore, NatsBus). */
export function statusProbe(
  name: string,
  target: { status?: () => DependencyStatus; ping?: () => Promise<DependencyStatus> },
): HealthProbe | undefined {
  const check = target.ping?.bind(target) ?? target.status?.bind(target);
  return check ? { name, check } : undefined;
}

/** What /health says of a dependency that is down: one of these phrases, never a driver's own message. */
const NO_ANSWER = 'no answer within 2 s';
const NOT_AVAILABLE = 'not available';

/**
 * `/health`'s report: each dependency with ok/detail, and `down` naming those that are not ok (the route answers 503
 * when `down` is not empty, so a load balancer stops sending work to an instance that cannot do it). The route is
 * public, so a dependency that is down is described by a fixed phrase: a driver's message names the database's or
 * Redis's address and port, a user or a database (OWASP API8); the requests that fail meanwhile log the error itself.
 */
export async function healthReport(
  probes: readonly HealthProbe[],
): Promise<{ dependencies: Record<string, DependencyStatus>; down: string[] }> {
  const results = await Promise.all(probes.map((probe) => bounded(probe)));
  const dependencies: Record<string, DependencyStatus> = {};
  const down: string[] = [];
  probes.forEach((probe, i) => {
    const status = results[i] as DependencyStatus;
    dependencies[probe.name] = status.ok
      ? { ok: true }
      : { ok: false, detail: status.detail === NO_ANSWER ? NO_ANSWER : NOT_AVAILABLE };
    if (!status.ok) down.push(probe.name);
  });
  return { dependencies, down };
}

async function bounded(probe: HealthProbe): Promise<DependencyStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DependencyStatus>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: NO_ANSWER }), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => probe.check()), timeout]);
  } catch {
    return { ok: false, detail: NOT_AVAILABLE };
  } finally {
    clearTimeout(timer);
  }
}
