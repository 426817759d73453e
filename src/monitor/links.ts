import type { MonitorEvent } from './events.js';

/**
 * The entity-link graph (关系图谱, domain.md §4.1.8): users joined to the devices, IPs and payees they use. A union-find
 * (with path halving and union by size) keeps connected components, so "how many borrowers are in this group" is
 * near O(1) per event — the signal for device farms and rings (F6). Links are never removed, so a component is the
 * all-time group; windowed sharing ("users on this device in 24 h") comes from the feature store instead.
 * IPs are off by default: carrier-grade NAT puts thousands of honest users behind one IP and would merge them all.
 */
export interface LinkOptions {
  readonly linkDevices: boolean;
  readonly linkIps: boolean;
  readonly linkPayees: boolean;
}

export const DEFAULT_LINK_OPTIONS: LinkOptions = { linkDevices: true, linkIps: false, linkPayees: true };

export class EntityGraph {
  private readonly parent = new Map<string, string>();
  private readonly users = new Map<string, number>();
  /** Per link kind, user id → the ids it is linked to: the repeat check needs no string building (most events repeat a link). */
  private readonly linked = {
    device: new Map<string, Set<string>>(),
    ip: new Map<string, Set<string>>(),
    payee: new Map<string, Set<string>>(),
  };
  private readonly seenUsers = new Set<string>();
  private edges = 0;

  constructor(private readonly options: LinkOptions = DEFAULT_LINK_OPTIONS) {}

  add(event: MonitorEvent): void {
    const userId = event.userId;
    if (!this.seenUsers.has(userId)) {
      this.seenUsers.add(userId);
      this.node(`user:${userId}`, true);
    }
    if (this.options.linkDevices && event.deviceId) this.link(userId, 'device', event.deviceId);
    if (this.options.linkIps && event.ip) this.link(userId, 'ip', event.ip);
    // Only personal payees link borrowers: a business account (it has an MCC: a broker, a lender) has many honest customers.
    if (
      this.options.linkPayees &&
      event.payeeId &&
      event.type === 'transfer_out' &&
      event.merchantCategory === undefined
    ) {
      this.link(userId, 'payee', event.payeeId);
    }
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

  private link(userId: string, kind: 'device' | 'ip' | 'payee', id: string): void {
    const byUser = this.linked[kind];
    let ids = byUser.get(userId);
    if (!ids) {
      ids = new Set();
      byUser.set(userId, ids);
    }
    if (ids.has(id)) return;
    ids.add(id);
    this.edges += 1;
    const other = `${kind}:${id}`;
    this.node(other, false);
    this.union(`user:${userId}`, other);
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
