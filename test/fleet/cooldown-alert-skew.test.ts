import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG, T0, applicant, client, fleet, openLine, type Proc } from './skew-harness.js';

/**
 * A COOLDOWN draw is released by the case jobs once its cooling-off ends "unless the line is no longer ACTIVE or an
 * alert was raised on the borrower since" (README, Cases). Alerts are stamped with the monitor process's clock and
 * draws with the drawing process's, so the release also counts an alert whose transaction came after the draw's in
 * commit order (store/core-held-draws.ts alertAfter: monitor_alerts.changed_xid above the draw's changed_xid).
 *
 * Before, the check compared created_at alone: an alert raised two minutes after the draw by a process whose clock
 * lags five was stamped three minutes before it, and the money left.
 */
describe.skipIf(!PG)(
  'a cooling-off release after an alert raised at a process whose clock lags (PostgreSQL)',
  () => {
    let procs: Proc[];
    let close: () => Promise<void>;
    const LAG_MS = 5 * 60_000;
    const MIN = 60_000;
    const COOLING_OFF_MS = 60 * MIN;

    beforeAll(async () => {
      ({ procs, close } = await fleet('coolalert', {
        clocks: [T0, T0 - LAG_MS],
        env: { LINEGUARD_COOLING_OFF_MS: String(COOLING_OFF_MS) },
      }));
    }, 120_000);
    afterAll(async () => close?.());

    const tick = (ms: number) => procs.forEach((p) => p.clock.advance(ms));
    const draw = { amountMinor: 100_000, currency: 'CNY', termMonths: 6, method: 'EQUAL_INSTALLMENT' };

    /** Four borrowers on one phone at process b: a DEVICE_FARM alert on each, the borrower among them. */
    const deviceFarm = async (tag: string, borrowerId: string): Promise<string[]> => {
      const b = procs[1] as Proc;
      const device = `skew-farm-${tag}`;
      const events = [`x1-${tag}`, `x2-${tag}`, `x3-${tag}`, borrowerId].map((userId, i) => ({
        eventId: `skew-farm-${tag}-${i}`,
        type: 'login',
        occurredAt: new Date(b.clock.now() + i).toISOString(),
        userId,
        deviceId: device,
      }));
      const ingested = await client(b.t).post('/v1/events', { events });
      expect(ingested.statusCode, ingested.body).toBe(200);
      const listed = (await client(b.t).get(`/v1/alerts?userId=${borrowerId}`)).json();
      const mine = (listed.items ?? listed).filter((x: { userId?: string }) => x.userId === borrowerId);
      expect(mine.length, JSON.stringify(listed)).toBeGreaterThan(0);
      return mine.map((x: { alertId: string }) => x.alertId);
    };

    /** An approved draw, then a COOLDOWN one a minute later (RAPID_REPEAT) at a; its id. */
    const cooledDraw = async (lineId: string): Promise<string> => {
      const a = procs[0] as Proc;
      expect((await client(a.t).post(`/v1/lines/${lineId}/draws`, draw)).json().status).toBe('APPROVED');
      tick(MIN);
      const cooled = await client(a.t).post(`/v1/lines/${lineId}/draws`, draw);
      expect(cooled.json().status, cooled.body).toBe('COOLDOWN');
      return cooled.json().drawId as string;
    };

    /** The cooling-off ends and the case jobs run at a; the draw's status and the line's loans after. */
    const sweep = async (lineId: string, drawId: string) => {
      const a = procs[0] as Proc;
      tick(COOLING_OFF_MS);
      await a.t.app.cases.runJobs();
      const draws = (await client(a.t).get(`/v1/lines/${lineId}/draws`)).json().items as {
        id?: string;
        drawId?: string;
        status: string;
      }[];
      const status = draws.find((d) => (d.id ?? d.drawId) === drawId)?.status;
      const loans = (await client(a.t).get(`/v1/lines/${lineId}/loans`)).json().items.length as number;
      return { status, loans };
    };

    /** An alert raised at b two minutes (real time) after the draw: the release stops (HOLD, one loan). */
    const alertAfterTheDraw = async (tag: number) => {
      const a = procs[0] as Proc;
      const { lineId, borrowerId } = await openLine(a.t, applicant(tag));
      tick(MIN);
      const drawId = await cooledDraw(lineId);
      tick(2 * MIN);
      await deviceFarm(String(tag), borrowerId);
      expect(await sweep(lineId, drawId)).toEqual({ status: 'HOLD', loans: 1 });
    };

    it('control: with both clocks together the alert after the draw stops the release', async () => {
      const [a, b] = procs as [Proc, Proc];
      b.clock.set(a.clock.now());
      try {
        await alertAfterTheDraw(71);
      } finally {
        b.clock.set(a.clock.now() - LAG_MS);
      }
    });

    it('an alert raised after the draw at the lagging process (stamped before it) stops the release too', async () => {
      await alertAfterTheDraw(72);
    });

    it('an alert raised and closed at the lagging process before the draw does not stop the release', async () => {
      const [a, b] = procs as [Proc, Proc];
      const { lineId, borrowerId } = await openLine(a.t, applicant(73));
      tick(MIN);
      for (const alertId of await deviceFarm('73', borrowerId)) {
        const closed = await client(b.t).post(`/v1/alerts/${alertId}/status`, { status: 'CLOSED' });
        expect(closed.statusCode, closed.body).toBe(200);
      }
      tick(MIN);
      // No alert open: the draw is cooled off (not sent for review), and nothing about the borrower moves after it.
      const drawId = await cooledDraw(lineId);
      expect(await sweep(lineId, drawId)).toEqual({ status: 'APPROVED', loans: 2 });
    });
  },
);
