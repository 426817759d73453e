import type { MonitorEvent } from './events.js';

/**
 * The entity-link graph (关系图谱, domain.md §4.1.8): users joined to the devices, IPs and payees they use. A union-find
 * (with path halving and union by size) keeps connected components, so "how many borrowers are in this group" is
 * near O(1) per event — the signal for device farms and rings (F6). Short-window sharing ("users on this device in
 * 24 h") comes from the feature store instead.
 * A component is the group as of the monitor's retention horizon: each link remembers when it was last seen, and
 * prune() forgets links (and borrowers) not seen since, then rebuilds the components from what is left. Without it a
 * phone-repair shop's device would join its customers for good, and the graph would grow for as long as the service
 * runs.
 * IPs are off by default: carrier-grade NAT puts thousands of honest users behind one IP and would merge them all.
 */
export interface LinkOptions {
  readonly linkDevices: boolean;
  readonly linkIps: boolean;
  readonly linkPayees: boolean;
}

type LinkKind = 'device' | 'ip' | 'payee';
const LINK_KINDS: readonly LinkKind[] = ['device', 'ip', 'payee'];

export const DEFAULT_LINK_OPTIONS: LinkOptions = { linkDevices: true, linkIps: false, linkPayees: true };

export class EntityGraph {
  private readonly parent = new Map<string, string>();
  private readonly users = new Map<string, number>();
  /**
   * Per link kind, user id → linked id → when the link was last seen (occurredAt): the repeat check needs no string
   * building (most events repeat a link).
   */
  private readonly linked: Record<LinkKind, Map<string, Map<string, number>>> = {
    device: new Map(),
    ip: new Map(),
    payee: new Map(),
  };
  /** User id → their latest event's occurredAt. */
  private readonly userSeen = new Map<string, number>();
  private edges = 0;

  constructor(private readonly options: LinkOptions = DEFAULT_LINK_OPTIONS) {}

  add(event: MonitorEvent): void {
    const userId = event.userId;
    const t = event.occurredAt;
    const seen = this.userSeen.get(userId);
    if (seen === undefined) {
      this.userSeen.set(userId, t);
      this.node(`user:${userId}`, true);
    } else if (t > seen) {
      this.userSeen.set(userId, t);
    }
    if (this.options.linkDevices && event.deviceId) this.link(userId, 'device', event.deviceId, t);
    if (this.options.linkIps && event.ip) this.link(userId, 'ip', event.ip, t);
    // Only personal payees link borrowers: a business account (it has an MCC: a broker, a lender) has many honest customers.
    if (
      this.options.linkPayees &&
      event.payeeId &&
      event.type === 'transfer_out' &&
      event.merchantCategory === undefined
    ) {
      this.link(userId, 'payee', event.payeeId, t);
    }
  }

  /**
   * Forgets links last seen at or before `horizon` and borrowers with no event since, then rebuilds the components
   * from the links left (a union-find cannot split). O(links); the monitor runs it once per day of event time.
   * Returns how many links were forgotten.
   */
  prune(horizon: number): number {
    let forgotten = 0;
    let usersForgotten = 0;
    for (const [userId, t] of this.userSeen) {
      if (t > horizon) continue;
      this.userSeen.delete(userId);
      usersForgotten += 1;
    }
    for (const byUser of Object.values(this.linked)) {
      for (const [userId, ids] of byUser) {
        for (const [id, t] of ids) {
          if (t > horizon) continue;
          ids.delete(id);
          forgotten += 1;
        }
        if (ids.size === 0) byUser.delete(userId);
      }
    }
    if (forgotten > 0 || usersForgotten > 0) this.rebuild();
    return forgotten;
  }

  /** The borrower's latest event time (occurredAt), while remembered (not pruned). */
  lastSeen(userId: string): number | undefined {
    return this.userSeen.get(userId);
  }

  /** Borrowers in the component of a node ('user:u1', 'device:d1', …); 0 for an unknown node. */
  componentUsers(node: string): number {
    if (!this.parent.has(node)) return 0;
    return this.users.get(this.find(node)) ?? 0;
  }

  /** Number of distinct links recorded (for tests and metrics). */
  get edgeCount(): number {
    return this.edges;
  }

  private link(userId: string, kind: LinkKind, id: string, t: number): void {
    const byUser = this.linked[kind];
    let ids = byUser.get(userId);
    if (!ids) {
      ids = new Map();
      byUser.set(userId, ids);
    }
    const last = ids.get(id);
    if (last !== undefined) {
      if (t > last) ids.set(id, t);
      return;
    }
    ids.set(id, t);
    this.join(userId, kind, id);
  }

  private join(userId: string, kind: LinkKind, id: string): void {
    this.edges += 1;
    const other = `${kind}:${id}`;
    this.node(other, false);
    this.union(`user:${userId}`, other);
  }

  /** The components again from the remembered borrowers and links. A link's borrower was seen no earlier than it. */
  private rebuild(): void {
    this.parent.clear();
    this.users.clear();
    this.edges = 0;
    for (const userId of this.userSeen.keys()) this.node(`user:${userId}`, true);
    for (const kind of LINK_KINDS) {
      for (const [userId, ids] of this.linked[kind]) for (const id of ids.keys()) this.join(userId, kind, id);
    }
  }

  private node(id: string, isUser: boolean): void {
    if (this.parent.has(id)) return;
    this.parent.set(id, id);
    this.users.set(id, isUser ? 1 : 0);
  }

  private find(id: string): string {
    let x = id;
    for (;;) {
      const p = this.parent.get(x) as string;
      if (p === x) return x;
      const gp = this.parent.get(p) as string;
      this.parent.set(x, gp);
      x = gp;
    }
  }

  private union(a: string, b: string): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if ((this.users.get(ra) ?? 0) < (this.users.get(rb) ?? 0)) [ra, rb] = [rb, ra];
    this.parent.set(rb, ra);
    this.users.set(ra, (this.users.get(ra) ?? 0) + (this.users.get(rb) ?? 0));
    this.users.delete(rb);
  }
}
