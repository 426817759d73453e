import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromCorePayload } from '../../src/monitor/index.js';
import { adminHeaders, startTestApp, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * The core's own events carry the device, IP and payee of the request that made them, and the monitor keeps them:
 * since only the core may report applications (POST /v1/events refuses them), an application burst from one IP is
 * visible to the device-farm pack only through the core's event. It dropped them, so in production the pack's
 * "applications from one IP" rule never had an application with an IP to count (the simulation, which feeds the
 * monitor directly, always had one).
 */
describe('core events keep device, IP and payee', () => {
  it('fromCorePayload keeps the request keys the core put on the event', () => {
    const event = fromCorePayload({
      eventId: 'e1',
      type: 'disbursement',
      occurredAt: '2026-03-01T00:00:00.000Z',
      userId: 'u1',
      lineId: 'l1',
      loanId: 'n1',
      amount: 100_000,
      currency: 'CNY',
      deviceId: 'dev-1',
      ip: '203.0.113.7',
      payeeId: 'acct-9',
    });
    expect(event).toMatchObject({ deviceId: 'dev-1', ip: '203.0.113.7', payeeId: 'acct-9' });
  });

  describe('through the app', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(async () => t?.close());

    it('a burst of applications from one IP is a device-farm alert', async () => {
      const applicants = [301, 302, 303, 304, 305];
      for (const seq of applicants) {
        const res = await t.server.inject({
          method: 'POST',
          url: '/v1/applications',
          headers: adminHeaders(`farm-${seq}`),
          payload: {
            applicant: { name: '测试', nationalId: residentId('19900101', seq), phone: '13900000000' },
            attributes: STRONG_APPLICANT,
            deviceId: `farm-phone-${seq}`,
            ip: '203.0.113.7',
          },
        });
        expect(res.statusCode, res.body).toBe(201);
      }
      // The applications reach the monitor through the outbox after they commit.
      let typologies: string[] = [];
      for (let i = 0; i < 100 && !typologies.includes('DEVICE_FARM'); i++) {
        await sleep(50);
        const alerts = await t.server.inject({ method: 'GET', url: '/v1/alerts', headers: adminHeaders() });
        typologies = (alerts.json() as { items: { typology: { id: string } }[] }).items.map(
          (a) => a.typology.id,
        );
      }
      expect(typologies).toContain('DEVICE_FARM');
    });
  });
});
