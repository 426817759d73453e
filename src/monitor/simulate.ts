import { seededRandom } from '../domain/index.js';
import type { EventIn, EventType } from './events.js';

/**
 * Labelled synthetic traffic for measuring typologies (issue 5 "Test data and measured quality"): normal borrowers with
 * the habits that trip naive rules (near-misses), and each typology with variation and noise — not only textbook
 * cases. Deterministic for a seed. Every event carries `scenario` (the borrower's truth: 'normal' or a typology id)
 * and `label` (the typology for the events that ARE the fraud, null for background activity).
 */
export interface SimulationOptions {
  readonly users: number;
  readonly days: number;
  readonly seed: number;
  /** Epoch ms of day 0 (default 2025-01-06T00:00Z). */
  readonly startMs?: number;
  /** Share of borrowers in each fraud scenario (default 0.02 each). */
  readonly fraudShare?: number;
  /**
   * Share of FUND_MISUSE borrowers who add their own money, so the prohibited flow exceeds twice the draw (default
   * 0.3). Drawn from a random stream of its own: the rest of the traffic for a seed is the same with or without it.
   */
  readonly misuseTopUpShare?: number;
}

export type LabelledEvent = EventIn & { readonly scenario: string; readonly label: string | null };

export const SIMULATED_TYPOLOGIES = [
  'SCAM_SAFE_ACCOUNT_TRANSFER',
  'ACCOUNT_TAKEOVER',
  'DEVICE_FARM',
  'CASH_OUT',
  'LOAN_STACKING',
  'FUND_MISUSE',
  'CREDIT_REPORT_ABUSE',
] as const;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const CNY = 100; // minor units per yuan

type Rng = () => number;

interface User {
  readonly id: string;
  readonly lineId: string;
  device: string;
  readonly ip: string;
  readonly payees: string[];
  readonly scenario: string;
}

class Sim {
  readonly events: LabelledEvent[] = [];
  private n = 0;
  constructor(
    readonly rnd: Rng,
    readonly seed: number,
    readonly start: number,
    readonly days: number,
    /** A second stream, for variants added later, so they leave the first stream's traffic as it was. */
    readonly variant: Rng,
  ) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)] as T;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  /** A daytime instant (08:00–22:00 China time) on day d. */
  daytime(d: number): number {
    return this.start + d * DAY + this.int(8, 21) * HOUR + this.int(0, 59) * MIN;
  }
  emit(
    user: User,
    type: EventType,
    t: number,
    fields: Partial<EventIn> = {},
    label: string | null = null,
  ): string {
    // A variant's events name their own ids, so the numbering of every other event stays as it was.
    const eventId = fields.eventId ?? `sim${this.seed}-${(this.n += 1)}`;
    this.events.push({
      eventId,
      type,
      occurredAt: new Date(Math.floor(t)).toISOString(),
      userId: user.id,
      deviceId: user.device,
      ip: user.ip,
      ...fields,
      scenario: user.scenario,
      label,
    } as LabelledEvent);
    return eventId;
  }
  money(t: number, amountYuan: number): { amount: number; currency: string } {
    void t;
    return { amount: Math.round(amountYuan * CNY), currency: 'CNY' };
  }
}

export function simulateTraffic(options: SimulationOptions): LabelledEvent[] {
  const random = seededRandom(options.seed);
  // Day 0 is a Monday 00:00 China time (UTC+8) so "daytime" means 08:00-22:00 local.
  const start = options.startMs ?? Date.parse('2025-01-05T16:00:00Z');
  const variant = seededRandom((options.seed ^ 0x5bd1e995) >>> 0);
  const sim = new Sim(
    () => random.next(),
    options.seed,
    start,
    options.days,
    () => variant.next(),
  );
  const share = options.fraudShare ?? 0.02;
  const merchants = Array.from({ length: 300 }, (_, i) => ({
    id: `m${i}`,
    mcc: sim.pick(['5411', '5812', '5311', '5732', '5651', '4121', '5912', '5999']),
  }));
  const carrierIps = Array.from(
    { length: Math.max(5, Math.floor(options.users / 40)) },
    (_, i) => `10.${i >> 8}.${i & 255}.1`,
  );
  const farms: User[][] = [];
  for (let i = 0; i < options.users; i++) {
    const r = sim.rnd();
    const k = Math.floor(r / share);
    const scenario = k < SIMULATED_TYPOLOGIES.length ? (SIMULATED_TYPOLOGIES[k] as string) : 'normal';
    const user: User = {
      id: `u${i}`,
      lineId: `line-u${i}`,
      device: `dev-u${i}`,
      ip: sim.pick(carrierIps),
      payees: Array.from({ length: sim.int(2, 4) }, (_, j) => `payee-u${i}-${j}`),
      scenario,
    };
    if (scenario === 'DEVICE_FARM') {
      const farm = farms[farms.length - 1];
      if (farm && farm.length < sim.int(6, 14)) farm.push(user);
      else farms.push([user]);
      continue;
    }
    normalLife(sim, user, merchants, options.users);
    if (scenario === 'SCAM_SAFE_ACCOUNT_TRANSFER') scam(sim, user);
    else if (scenario === 'ACCOUNT_TAKEOVER') takeover(sim, user);
    else if (scenario === 'CASH_OUT') cashOut(sim, user);
    else if (scenario === 'LOAN_STACKING') stacking(sim, user);
    else if (scenario === 'FUND_MISUSE') misuse(sim, user, options.misuseTopUpShare ?? 0.3);
    else if (scenario === 'CREDIT_REPORT_ABUSE') reportAbuse(sim, user);
  }
  for (const farm of farms) deviceFarm(sim, farm);
  return sim.events.sort(
    (a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || (a.eventId < b.eventId ? -1 : 1),
  );
}

/** Ordinary life, with the near-misses that trip naive rules. */
function normalLife(
  sim: Sim,
  u: User,
  merchants: readonly { id: string; mcc: string }[],
  users: number,
): void {
  const payeeSince = new Date(sim.start - 400 * DAY).toISOString();
  const grocer = sim.pick(merchants);
  const drawRate = sim.pick([0.01, 0.03, 0.06]);
  // A shared family tablet: at most three borrowers (consecutive ids) on one device.
  const family = sim.chance(0.3) ? `dev-family-${Math.floor(Number(u.id.slice(1)) / 3)}` : undefined;
  void users;
  for (let d = 0; d < sim.days; d++) {
    if (family && sim.chance(0.3)) {
      const own = u.device;
      u.device = family; // a shared family tablet: 2-3 borrowers on one device
      sim.emit(u, 'login', sim.daytime(d));
      u.device = own;
    }
    if (sim.chance(0.6)) sim.emit(u, 'login', sim.daytime(d));
    if (sim.chance(0.02)) sim.emit(u, 'login_failed', sim.daytime(d));
    if (sim.chance(0.4)) {
      const m = sim.pick(merchants);
      sim.emit(u, 'purchase', sim.daytime(d), {
        merchantId: m.id,
        merchantCategory: m.mcc,
        ...sim.money(0, sim.int(15, 600) + sim.int(1, 99) / 100),
      });
    }
    if (d % 7 === 3)
      sim.emit(u, 'purchase', sim.daytime(d), {
        merchantId: grocer.id,
        merchantCategory: '5411',
        ...sim.money(0, sim.int(80, 400) + sim.int(1, 99) / 100),
      });
    if (sim.chance(drawRate)) {
      const t = sim.daytime(d);
      const amount = sim.pick([1000, 2000, 3000, 5000, 8000, 10000]);
      sim.emit(u, 'disbursement', t, { lineId: u.lineId, ...sim.money(0, amount) });
      // Near-miss: pays most of the draw to a long-standing payee (rent, family).
      if (sim.chance(0.5))
        sim.emit(u, 'transfer_out', t + sim.int(10, 120) * MIN, {
          payeeId: sim.pick(u.payees),
          payeeCreatedAt: payeeSince,
          ...sim.money(0, amount * 0.9),
        });
      // Near-miss: pays part of a credit-card bill (a lender) from the draw, well under half.
      if (sim.chance(0.1))
        sim.emit(u, 'transfer_out', t + sim.int(1, 30) * HOUR, {
          payeeId: `card-${u.id}`,
          payeeCreatedAt: payeeSince,
          merchantCategory: '6012',
          ...sim.money(0, amount * 0.2),
        });
      // Near-miss: a lottery ticket after a draw.
      if (sim.chance(0.05))
        sim.emit(u, 'purchase', t + sim.int(1, 48) * HOUR, {
          merchantId: 'lottery-1',
          merchantCategory: '7995',
          ...sim.money(0, 20),
        });
    }
    if (d % 30 === 15)
      sim.emit(u, 'repayment', sim.daytime(d), { lineId: u.lineId, ...sim.money(0, sim.int(300, 3000)) });
  }
  nearMisses(sim, u, merchants, payeeSince);
}

/** Ordinary life that looks like a typology at a glance (each a false-positive trap), in a fixed draw order. */
function nearMisses(
  sim: Sim,
  u: User,
  merchants: readonly { id: string; mcc: string }[],
  payeeSince: string,
): void {
  accountNearMisses(sim, u, payeeSince);
  creditNearMisses(sim, u, merchants);
}

/** Device, credential and payee changes with nothing risky after them. */
function accountNearMisses(sim: Sim, u: User, payeeSince: string): void {
  const day = () => sim.int(3, sim.days - 2);
  if (sim.chance(0.15)) {
    // New phone: device change and logins from it, nothing risky for days.
    const d = day();
    u.device = `dev-u${u.id}-new`;
    sim.emit(u, 'device_change', sim.daytime(d));
    sim.emit(u, 'login', sim.daytime(d) + HOUR);
  }
  if (sim.chance(0.05)) {
    // Forgotten password on the usual device, then a draw the same day.
    const d = day();
    const t = sim.daytime(d);
    sim.emit(u, 'password_reset', t);
    sim.emit(u, 'disbursement', t + 2 * HOUR, { lineId: u.lineId, ...sim.money(0, 3000) });
  }
  if (sim.chance(0.1)) {
    // New payee paid from own money (no draw).
    const d = day();
    const t = sim.daytime(d);
    sim.emit(u, 'payee_added', t, { payeeId: `payee-${u.id}-x` });
    sim.emit(u, 'transfer_out', t + 30 * MIN, {
      payeeId: `payee-${u.id}-x`,
      payeeCreatedAt: new Date(t).toISOString(),
      ...sim.money(0, 4000),
    });
  }
  if (sim.chance(0.05)) {
    // Renovation: contractor added days before, then a draw paid mostly to them.
    const d = day();
    const t = sim.daytime(d);
    sim.emit(u, 'payee_added', t - 3 * DAY, { payeeId: `contractor-${u.id}` });
    sim.emit(u, 'disbursement', t, { lineId: u.lineId, ...sim.money(0, 20000) });
    sim.emit(u, 'transfer_out', t + 40 * MIN, {
      payeeId: `contractor-${u.id}`,
      payeeCreatedAt: new Date(t - 3 * DAY).toISOString(),
      ...sim.money(0, 18000),
    });
  }
  if (sim.chance(0.05)) {
    // Buys shares with savings: no draw in the window.
    sim.emit(u, 'transfer_out', sim.daytime(day()), {
      payeeId: `broker-${u.id}`,
      payeeCreatedAt: payeeSince,
      merchantCategory: '6211',
      ...sim.money(0, 30000),
    });
  }
}

/** Inquiries, refunds and applications of a borrower shopping for credit in good faith. */
function creditNearMisses(sim: Sim, u: User, merchants: readonly { id: string; mcc: string }[]): void {
  const day = () => sim.int(3, sim.days - 2);
  if (sim.chance(0.1)) {
    // Rate shopping: 2-3 hard inquiries in a week.
    const d = day();
    for (let i = 0; i < sim.int(2, 3); i++)
      sim.emit(u, 'bureau_inquiry', sim.daytime(Math.min(sim.days - 1, d + i * 2)), {
        channel: `bank-${sim.int(1, 20)}`,
        attributes: { purpose: 'LOAN_APPROVAL', origin: 'external' },
      });
  }
  if (sim.chance(0.05)) {
    // A big round purchase and a refund of it.
    const m = sim.pick(merchants);
    const t = sim.daytime(day());
    sim.emit(u, 'purchase', t, { merchantId: m.id, merchantCategory: '5732', ...sim.money(0, 6000) });
    sim.emit(u, 'transfer_in', t + DAY, {
      merchantId: m.id,
      attributes: { kind: 'refund' },
      ...sim.money(0, 6000),
    });
  }
  if (sim.chance(0.2)) {
    // Applies with us: application then our own approval pull.
    const t = sim.daytime(day());
    sim.emit(u, 'application', t, { lineId: u.lineId, channel: 'app' });
    sim.emit(u, 'bureau_inquiry', t + 2 * MIN, {
      channel: sim.pick(['app', 'partner-a', 'partner-b']),
      attributes: { purpose: 'LOAN_APPROVAL', origin: 'self' },
    });
  }
  if (sim.chance(0.03)) {
    // Post-loan review pull on an active borrower.
    const t = sim.daytime(day());
    sim.emit(u, 'repayment', t - 5 * DAY, { lineId: u.lineId, ...sim.money(0, 500) });
    sim.emit(u, 'bureau_inquiry', t, {
      channel: 'app',
      attributes: { purpose: 'POST_LOAN_MGMT', origin: 'self' },
    });
  }
}

function scam(sim: Sim, u: User): void {
  const L = 'SCAM_SAFE_ACCOUNT_TRANSFER';
  const t = sim.daytime(sim.int(5, sim.days - 2));
  const coached = sim.chance(0.75);
  if (coached)
    sim.emit(
      u,
      sim.chance(0.7) ? 'call_in_progress' : 'screen_share_detected',
      t - sim.int(5, 40) * MIN,
      {},
      L,
    );
  const payee = `safe-acct-${u.id}`;
  const addedAt = sim.chance(0.85) ? t + sim.int(1, 30) * MIN : t - sim.int(1, 2) * DAY;
  sim.emit(u, 'payee_added', addedAt, { payeeId: payee }, L);
  const amount = sim.int(10, 50) * 1000;
  sim.emit(u, 'disbursement', t, { lineId: u.lineId, ...sim.money(0, amount) }, L);
  const parts = sim.int(1, 3);
  const share = 0.7 + sim.rnd() * 0.3;
  for (let i = 0; i < parts; i++) {
    sim.emit(
      u,
      'transfer_out',
      Math.max(t, addedAt) + (i + 1) * sim.int(5, 40) * MIN,
      {
        payeeId: payee,
        payeeCreatedAt: new Date(addedAt).toISOString(),
        ...sim.money(0, (amount * share) / parts),
      },
      L,
    );
  }
}

function takeover(sim: Sim, u: User): void {
  const L = 'ACCOUNT_TAKEOVER';
  const t = sim.daytime(sim.int(10, sim.days - 2));
  const saved = { device: u.device };
  u.device = `dev-attacker-${u.id}`;
  const attacker = { ...u, ip: `203.0.113.${sim.int(1, 254)}` };
  for (let i = 0; i < sim.int(0, 5); i++) sim.emit(attacker, 'login_failed', t - 60 * MIN + i * MIN, {}, L);
  sim.emit(attacker, 'login', t - 30 * MIN, {}, L);
  sim.emit(attacker, sim.chance(0.6) ? 'password_reset' : 'phone_change', t - 25 * MIN, {}, L);
  const mule = `mule-${sim.int(1, 30)}`;
  sim.emit(attacker, 'payee_added', t - 10 * MIN, { payeeId: mule }, L);
  const amount = sim.int(5, 30) * 1000;
  sim.emit(attacker, 'disbursement', t, { lineId: u.lineId, ...sim.money(0, amount) }, L);
  if (sim.chance(0.8))
    sim.emit(
      attacker,
      'transfer_out',
      t + 5 * MIN,
      { payeeId: mule, payeeCreatedAt: new Date(t - 10 * MIN).toISOString(), ...sim.money(0, amount) },
      L,
    );
  u.device = saved.device;
}

function deviceFarm(sim: Sim, farm: readonly User[]): void {
  const L = 'DEVICE_FARM';
  const devices = Array.from({ length: sim.int(1, 3) }, (_, i) => `emu-${farm[0]?.id}-${i}`);
  const proxy = `198.51.100.${sim.int(1, 254)}`;
  const t0 = sim.daytime(sim.int(1, sim.days - 3));
  const spread = sim.chance(0.7) ? HOUR : 2 * DAY;
  farm.forEach((u, i) => {
    u.device = devices[i % devices.length] as string;
    const fake = { ...u, ip: sim.chance(0.8) ? proxy : u.ip };
    const t = t0 + Math.floor((spread * i) / farm.length);
    sim.emit(fake, 'login', t - 5 * MIN, {}, L);
    // Farms rotate accounts across their devices, which links the accounts into one group.
    if (sim.chance(0.5))
      sim.emit({ ...fake, device: devices[(i + 1) % devices.length] as string }, 'login', t - 3 * MIN, {}, L);
    sim.emit(fake, 'application', t, { lineId: u.lineId, channel: 'agent-x' }, L);
    sim.emit(
      fake,
      'bureau_inquiry',
      t + 2 * MIN,
      { channel: 'app', attributes: { purpose: 'LOAN_APPROVAL', origin: 'self' } },
      L,
    );
    if (sim.chance(0.5))
      sim.emit(
        fake,
        'disbursement',
        t + DAY,
        { lineId: u.lineId, ...sim.money(0, sim.int(2, 10) * 1000) },
        L,
      );
  });
}

function cashOut(sim: Sim, u: User): void {
  const L = 'CASH_OUT';
  const merchant = `m-collude-${sim.int(1, 20)}`;
  const d = sim.int(3, sim.days - 6);
  const t = sim.daytime(d);
  sim.emit(u, 'disbursement', t - HOUR, { lineId: u.lineId, ...sim.money(0, 30000) }, L);
  const n = sim.int(2, 5);
  const night = sim.chance(0.4);
  for (let i = 0; i < n; i++) {
    const when = night
      ? sim.start + (d + i) * DAY + sim.int(0, 4) * HOUR + sim.int(0, 59) * MIN
      : t + i * sim.int(6, 30) * HOUR;
    const amount = sim.int(2, 9) * 1000;
    sim.emit(
      u,
      'purchase',
      when,
      { merchantId: merchant, merchantCategory: '5999', ...sim.money(0, amount) },
      L,
    );
    if (sim.chance(0.35))
      sim.emit(
        u,
        'transfer_in',
        when + sim.int(1, 12) * HOUR,
        { merchantId: merchant, ...sim.money(0, amount * 0.95) },
        L,
      );
  }
}

function stacking(sim: Sim, u: User): void {
  const L = 'LOAN_STACKING';
  const d = sim.int(2, sim.days - 16);
  if (sim.chance(0.6)) {
    const n = sim.int(5, 10);
    for (let i = 0; i < n; i++) {
      sim.emit(
        u,
        'bureau_inquiry',
        sim.daytime(d + sim.int(0, 14)),
        {
          channel: `lender-${sim.int(1, 40)}`,
          attributes: { purpose: sim.pick(['LOAN_APPROVAL', 'CARD_APPROVAL']), origin: 'external' },
        },
        L,
      );
    }
  } else {
    const t = sim.daytime(d);
    const amount = sim.int(5, 20) * 1000;
    sim.emit(u, 'disbursement', t, { lineId: u.lineId, ...sim.money(0, amount) }, L);
    sim.emit(
      u,
      'transfer_out',
      t + sim.int(1, 40) * HOUR,
      {
        payeeId: `other-lender-${sim.int(1, 10)}`,
        merchantCategory: '6012',
        payeeCreatedAt: new Date(sim.start - 100 * DAY).toISOString(),
        ...sim.money(0, amount * (0.6 + 0.4 * sim.rnd())),
      },
      L,
    );
  }
}

function misuse(sim: Sim, u: User, topUpShare: number): void {
  const L = 'FUND_MISUSE';
  const t = sim.daytime(sim.int(2, sim.days - 15));
  const amount = sim.int(20, 100) * 1000;
  sim.emit(u, 'disbursement', t, { lineId: u.lineId, ...sim.money(0, amount) }, L);
  const mcc = sim.pick(['6211', '6051', '7995', '6513']);
  const parts = sim.int(1, 3);
  const share = 0.35 + sim.rnd() * 0.65;
  for (let i = 0; i < parts; i++) {
    sim.emit(
      u,
      'transfer_out',
      t + sim.int(1, 14 * 24) * HOUR,
      {
        payeeId: `dest-${mcc}-${sim.int(1, 5)}`,
        merchantCategory: mcc,
        payeeCreatedAt: new Date(sim.start - 30 * DAY).toISOString(),
        ...sim.money(0, (amount * share) / parts),
      },
      L,
    );
  }
  if (sim.variant() < topUpShare) misuseTopUp(sim, u, { t, amount, mcc, sent: amount * share });
}

/**
 * Own money added to the misused loan (the evasion of a bound on the flow as a multiple of the draw): one more
 * transfer to the same kind of destination, any time in the two weeks, taking the total to 2.2-4x the draw.
 */
function misuseTopUp(
  sim: Sim,
  u: User,
  draw: { t: number; amount: number; mcc: string; sent: number },
): void {
  const v = sim.variant;
  const total = draw.amount * (2.2 + 1.8 * v());
  sim.emit(
    u,
    'transfer_out',
    draw.t + (1 + Math.floor(v() * 14 * 24)) * HOUR,
    {
      eventId: `sim${sim.seed}-topup-${u.id}`,
      payeeId: `dest-${draw.mcc}-${1 + Math.floor(v() * 5)}`,
      merchantCategory: draw.mcc,
      payeeCreatedAt: new Date(sim.start - 30 * DAY).toISOString(),
      ...sim.money(0, total - draw.sent),
    },
    'FUND_MISUSE',
  );
}

function reportAbuse(sim: Sim, u: User): void {
  const L = 'CREDIT_REPORT_ABUSE';
  const t = sim.daytime(sim.int(1, sim.days - 1));
  const purpose = sim.pick(['LOAN_APPROVAL', 'LOAN_APPROVAL', 'POST_LOAN_MGMT', 'CARD_APPROVAL']);
  sim.emit(u, 'bureau_inquiry', t, { channel: `partner-z`, attributes: { purpose, origin: 'self' } }, L);
}
