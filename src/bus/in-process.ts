import type { Bus, BusHandler, BusMessage } from './bus.js';

/**
 * The embedded bus: publish hands the message to one worker of each subscribed group and resolves when they have
 * handled it, so the outbox relay marks a row published only after the consumer has durably taken it. A handler
 * error rejects the publish (the relay retries). Recently seen ids are remembered (bounded) to drop duplicates.
 */
export class InProcessBus implements Bus {
  readonly kind = 'in-process' as const;
  private readonly groups = new Map<string, Map<string, { handlers: BusHandler[]; next: number }>>();
  private readonly seen = new Map<string, true>();

  constructor(private readonly dedupIdsMax = 100_000) {}

  async publish(message: BusMessage): Promise<void> {
    const key = `${message.topic}\u0000${message.id}`;
    if (this.seen.has(key)) return;
    const groups = this.groups.get(message.topic);
    const deliveries: Promise<void>[] = [];
    for (const group of groups?.values() ?? []) {
      if (group.handlers.length === 0) continue;
      const handler = group.handlers[group.next % group.handlers.length] as BusHandler;
      group.next += 1;
      deliveries.push(handler(message));
    }
    await Promise.all(deliveries);
    this.remember(key);
  }

  async subscribe(topic: string, group: string, handler: BusHandler): Promise<() => Promise<void>> {
    const byGroup = this.groups.get(topic) ?? new Map<string, { handlers: BusHandler[]; next: number }>();
    this.groups.set(topic, byGroup);
    const entry = byGroup.get(group) ?? { handlers: [], next: 0 };
    byGroup.set(group, entry);
    entry.handlers.push(handler);
    return async () => {
      entry.handlers = entry.handlers.filter((h) => h !== handler);
    };
  }

  async close(): Promise<void> {
    this.groups.clear();
  }

  private remember(key: string): void {
    this.seen.set(key, true);
    if (this.seen.size > this.dedupIdsMax) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
