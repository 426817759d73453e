import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MonitorEvent } from '../../src/monitor/events.js';
import {
  DAY,
  FEATURE_STORES,
  HOUR,
  MIN,
  T0,
  ev,
  history,
  money,
  openTestMonitor,
  receiveLive,
  type TestMonitor,
} from './helpers.js';

for (const features of FEATURE_STORES)
  describe.skipIf(!features.enabled)(
    `safe-account scam: slow clocks, aged mule accounts, device-less history (${features.name} features)`,
    () => {
      let t: TestMonitor;
      beforeEach(async () => {
        t = await openTestMonitor({ features: features.open() });
      });
      afterEach(async () => {
        await t.monitor.features.clear();
        await t.close();
        await t.monitor.features.close();
      });

      const fired = async (events: MonitorEvent[]): Promise<string[]> => {
        const outcomes = await t.monitor.ingest(events);
        return outcomes.flatMap((o) => o.typologies.map((f) => f.id));
      };

      /** The smallest pattern the pack fires on: payee added hours before, a call, a draw, most of it out. */
      const callScam = (user: string) => {
        const u = { userId: user, deviceId: `dev-${user}` };
        return {
          history: history(user),
          added: ev('payee_added', T0 - 5 * HOUR, { ...u, payeeId: `safe-${user}` }),
          call: ev('call_in_progress', T0 - 20 * MIN, u),
          draw: ev('disbursement', T0, { ...u, lineId: `line-${user}`, ...money(8_000) }),
          out: ev('transfer_out', T0 + 10 * MIN, { ...u, payeeId: `safe-${user}`, ...money(7_000) }),
        };
      };

      it('control: fires for the pattern as reported in order', async () => {
        const s = callScam('ctl');
        await receiveLive(t, s.history);
        await receiveLive(t, [s.added, s.call, s.draw]);
        t.clock.set(s.out.occurredAt);
        expect(await fired([s.out])).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
      });

      it('an aged mule account (payeeCreatedAt two years back) the borrower added 5 hours ago and never paid is still a new payee', async () => {
        const s = callScam('amy');
        await receiveLive(t, s.history);
        await receiveLive(t, [s.added, s.call, s.draw]);
        t.clock.set(s.out.occurredAt);
        // The bank says the receiving account was opened two years ago (bought / rented mule accounts are aged).
        expect(await fired([{ ...s.out, payeeCreatedAt: T0 - 730 * DAY }])).toContain(
          'SCAM_SAFE_ACCOUNT_TRANSFER',
        );
      });

      it('a transfer received 10 minutes after the draw but dated 2 minutes before it (phone clock slow) is still the pattern', async () => {
        const s = callScam('ben');
        await receiveLive(t, s.history);
        await receiveLive(t, [s.added, s.call, s.draw]);
        // Received after the draw; the phone's clock is 12 minutes slow, so it says T0 - 2 min.
        t.clock.set(T0 + 10 * MIN);
        expect(await fired([{ ...s.out, occurredAt: T0 - 2 * MIN }])).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
      });
      it('a dormant borrower whose last 30 days hold only repayments (core events carry no device) is still judged: the transfer is not set aside as "from an unknown device"', async () => {
        const u = { userId: 'dot', deviceId: 'dev-dot' };
        // Months ago: a draw and logins on her phone. In the last 30 days: only her monthly repayments, which the core
        // reports without a device.
        await receiveLive(t, [
          ev('login', T0 - 100 * DAY, u),
          ev('disbursement', T0 - 100 * DAY, { ...u, lineId: 'line-dot', ...money(3_000) }),
          ev('repayment', T0 - 25 * DAY, {
            userId: 'dot',
            deviceId: undefined,
            ip: undefined,
            lineId: 'line-dot',
            ...money(1_000),
          }),
          ev('repayment', T0 - 5 * DAY, {
            userId: 'dot',
            deviceId: undefined,
            ip: undefined,
            lineId: 'line-dot',
            ...money(1_000),
          }),
        ]);
        await receiveLive(t, [
          ev('call_in_progress', T0 - 20 * MIN, u),
          ev('payee_added', T0 - 10 * MIN, { ...u, payeeId: 'safe-dot' }),
          ev('disbursement', T0, { ...u, lineId: 'line-dot', ...money(8_000) }),
        ]);
        t.clock.set(T0 + 10 * MIN);
        expect(
          await fired([ev('transfer_out', T0 + 10 * MIN, { ...u, payeeId: 'safe-dot', ...money(7_500) })]),
        ).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
      });

      it('control: the same borrower with no repayments in the last 30 days is judged and fires', async () => {
        const u = { userId: 'eve', deviceId: 'dev-eve' };
        await receiveLive(t, [
          ev('login', T0 - 100 * DAY, u),
          ev('disbursement', T0 - 100 * DAY, { ...u, lineId: 'line-eve', ...money(3_000) }),
        ]);
        await receiveLive(t, [
          ev('call_in_progress', T0 - 20 * MIN, u),
          ev('payee_added', T0 - 10 * MIN, { ...u, payeeId: 'safe-eve' }),
          ev('disbursement', T0, { ...u, lineId: 'line-eve', ...money(8_000) }),
        ]);
        t.clock.set(T0 + 10 * MIN);
        expect(
          await fired([ev('transfer_out', T0 + 10 * MIN, { ...u, payeeId: 'safe-eve', ...money(7_500) })]),
        ).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
      });
    },
  );
