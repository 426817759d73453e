import { setTimeout as sleep } from 'node:timers/promises';
import type { ScamVictimSeed } from '../core/index.js';
import { parseEvents, type EventIn } from '../monitor/index.js';
import { monitorActionStore } from '../store/index.js';
import type { AppServices } from './app.js';

/** How long the demo waits for the victim's disbursement to reach the monitor through the outbox. */
const DELIVERY_WAIT_MS = 15_000;
const POLL_MS = 50;
const MINUTE = 60_000;

/**
 * The rest of the demo's scam, as the borrower's app would report it: a call already in progress when the loan was
 * drawn, then a payee added just after and ¥4,800 of the ¥5,000 sent to it. The monitor's safe-account scam typology
 * fires on it as on any borrower's: an alert with its evidence, the line frozen with readable reasons, a case in the
 * queue, so a fresh install's console and borrower view have something real to show. Returns what fired, or why not.
 */
export async function reportDemoScam(app: AppServices, victim: ScamVictimSeed): Promise<string> {
  // The pattern needs the disbursement, which reaches the monitor only after its commit, through the outbox.
  if (!(await disbursementDelivered(app, victim)))
    return 'the demo scam was not reported: the disbursement never reached the monitor';
  const now = Math.max(app.clock.now(), victim.disbursedAt);
  const at = (ms: number) => new Date(ms).toISOString();
  const device = 'demo-phone-qian';
  const events: EventIn[] = [
    {
      eventId: 'demo-scam-call',
      type: 'call_in_progress',
      occurredAt: at(victim.disbursedAt - 10 * MINUTE),
      userId: victim.borrowerId,
      deviceId: device,
    },
    {
      eventId: 'demo-scam-payee',
      type: 'payee_added',
      occurredAt: at(now),
      userId: victim.borrowerId,
      payeeId: 'demo-safe-account',
      payeeCreatedAt: at(now - 4 * MINUTE),
      deviceId: device,
    },
    {
      eventId: 'demo-scam-transfer',
      type: 'transfer_out',
      occurredAt: at(now),
      userId: victim.borrowerId,
      lineId: victim.lineId,
      payeeId: 'demo-safe-account',
      amount: Math.round(victim.principalMinor * 0.96),
      currency: 'CNY',
      deviceId: device,
    },
  ];
  const outcomes = await app.monitor.ingest(parseEvents(events));
  const fired = [...new Set(outcomes.flatMap((o) => o.typologies.map((t) => t.id)))];
  if (fired.length === 0) return 'the demo scam was reported but fired no typology';
  // The freeze goes to the core after the events commit: the demo's book is settled once it and its outcome are
  // written, before today's snapshot and before the server listens.
  return (await lineActionsDone(app))
    ? `the demo scam fired ${fired.join(', ')} on line ${victim.lineId}`
    : `the demo scam fired ${fired.join(', ')} on line ${victim.lineId}; its line action was still pending`;
}

/** Waits (as for the disbursement) until no line action the monitor asked for is left without its outcome. */
async function lineActionsDone(app: AppServices): Promise<boolean> {
  const actions = monitorActionStore(app.store);
  for (let waited = 0; waited < DELIVERY_WAIT_MS; waited += POLL_MS) {
    if ((await actions.pendingLineActions()).length === 0) return true;
    await sleep(POLL_MS);
  }
  return false;
}

async function disbursementDelivered(app: AppServices, victim: ScamVictimSeed): Promise<boolean> {
  const query = {
    entity: 'user' as const,
    id: victim.borrowerId,
    types: ['disbursement' as const],
    fromMs: victim.disbursedAt - MINUTE,
    toMs: victim.disbursedAt + MINUTE,
  };
  for (let waited = 0; waited < DELIVERY_WAIT_MS; waited += POLL_MS) {
    if ((await app.monitor.features.events(query)).length > 0) return true;
    await sleep(POLL_MS);
  }
  return false;
}
