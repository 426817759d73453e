import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { residentId } from '../core/harness.js';
import { client, startCaseApp, T0 } from '../cases/helpers.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import type { ManualClock } from '../../src/domain/clock.js';

const MIN = 60_000;
const DAY = 86_400_000;
let seq = 500;

/** The bundled draw strategy's inputs: what its rules may read. */
const DRAW_INPUTS = (
  JSON.parse(readFileSync('strategies/draw.json', 'utf8')) as { inputs: { name: string }[] }
).inputs.map((i) => i.name);

describe('the draw guard reads the monitor facts the bundled draw strategy declares', () => {
  let t: TestApp;
  let clock: ManualClock;
  let lineId: string;
  let borrowerId: string;
  let limitMinor: number;
  let ev = 0;

  const post = (url: string, body: unknown) => client(t).post(url, body);
  /** An event, received when it happened (clock set to it) unless `receivedAt` says otherwise. */
  const event = async (type: string, at: number, extra: Record<string, unknown> = {}, receivedAt = at) => {
    clock.set(receivedAt);
    const res = await post('/v1/events', {
      eventId: `guard-ev-${++ev}`,
      type,
      occurredAt: new Date(at).toISOString(),
      userId: borrowerId,
      deviceId: 'dev-home',
      ip: '10.0.0.8',
      ...extra,
    });
    expect(res.statusCode, res.body).toBe(200);
  };
  const draw = async (amountMinor: number, deviceId: string) => {
    const res = await post(`/v1/lines/${lineId}/draws`, {
      amountMinor,
      currency: 'CNY',
      termMonths: 3,
      method: 'EQUAL_INSTALLMENT',
      deviceId,
      ip: '10.0.0.8',
    });
    return { code: res.statusCode, body: res.json() };
  };
  const contextOf = async (decisionId: string): Promise<Record<string, unknown>> =>
    (await client(t).get(`/v1/decisions/${decisionId}`)).json().context;

  beforeEach(async () => {
    ({ t, clock } = await startCaseApp());
    clock.set(T0 - 40 * DAY);
    const applied = await post('/v1/applications', {
      applicant: { name: '张三', nationalId: residentId('19850505', ++seq), phone: '13800138000' },
      attributes: STRONG_APPLICANT,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    lineId = applied.json().line.id;
    borrowerId = applied.json().borrowerId;
    limitMinor = applied.json().line.limitMinor;
    // A month of ordinary logins on the borrower's own phone.
    for (let d = 30; d >= 2; d -= 2) await event('login', T0 - d * DAY);
  });
  afterEach(async () => t.close());

  it('a call reported by a phone whose clock runs 2 minutes fast (accepted) counts as a call in progress', async () => {
    expect(limitMinor).toBeGreaterThanOrEqual(600_000);
    // Accepted: within the 5-minute future tolerance; received at T0, dated T0 + 2 min.
    await event('call_in_progress', T0 + 2 * MIN, {}, T0);
    clock.set(T0 + 10_000);
    const d = await draw(600_000, 'dev-home');
    expect(d.body.status).toBe('HOLD');
    expect(d.body.reasons).toContain('R_CALL_IN_PROGRESS');
  });

  it('the same call dated 1 minute before the draw holds it (control)', async () => {
    await event('call_in_progress', T0 - MIN, {}, T0 - MIN);
    clock.set(T0);
    const d = await draw(600_000, 'dev-home');
    expect(d.body.status).toBe('HOLD');
    expect(d.body.reasons).toContain('R_CALL_IN_PROGRESS');
  });

  it('LARGE_ON_NEW_DEVICE: a near-full-limit draw from a phone first used 3 days ago is cooled off', async () => {
    // The new phone logs in three days before the draw (received then), so it is not "new in 24 h" any more.
    await event('login', T0 - 3 * DAY, { deviceId: 'dev-new-phone' });
    clock.set(T0);
    const d = await draw(Math.floor(limitMinor * 0.9), 'dev-new-phone');
    expect(d.body.status).toBe('COOLDOWN');
    expect(d.body.reasons).toContain('R_COOLING_OFF');
    expect((await contextOf(d.body.decisionId)).deviceAgeDays).toBe(3);
  });

  it('the same draw from the phone used all month is approved (control)', async () => {
    clock.set(T0);
    const d = await draw(Math.floor(limitMinor * 0.9), 'dev-home');
    expect(d.body.status).toBe('APPROVED');
    // The first login in the 30-day device history (which excludes its first instant) was 28 days back.
    expect((await contextOf(d.body.decisionId)).deviceAgeDays).toBe(28);
  });

  it('a phone whose login is dated back 20 days but was sent an hour ago is an hour old', async () => {
    await event('login', T0 - 20 * DAY, { deviceId: 'dev-dated-back' }, T0 - 60 * MIN);
    clock.set(T0);
    const d = await draw(Math.floor(limitMinor * 0.9), 'dev-dated-back');
    expect(d.body.status).toBe('CHALLENGE');
    expect((await contextOf(d.body.decisionId)).deviceAgeDays).toBe(0.04);
  });

  it('every input of the bundled draw strategy has a source: a second draw with device and IP reads them all', async () => {
    clock.set(T0);
    expect((await draw(100_000, 'dev-home')).body.status).toBe('APPROVED');
    clock.set(T0 + 60 * MIN);
    const second = await draw(100_000, 'dev-home');
    const context = await contextOf(second.body.decisionId);
    // A rule on an input no source provides is silently dead: comparisons with a missing value are false.
    expect(DRAW_INPUTS.filter((name) => context[name] === undefined)).toEqual([]);
  });
});
