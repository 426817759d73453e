import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LineActionPort } from '../../src/monitor/actions.js';
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

/**
 * A fraudster who has read the typologies (the code is open) and controls what their own app reports: when it says
 * something happened, the order its events arrive in, how an amount is split, how an id is spelled, which line it
 * names. Each case is an evasion (or a spoof against someone else) that was reproduced before its fix.
 */
for (const features of FEATURE_STORES)
  describe.skipIf(!features.enabled)(`evasions (${features.name} features)`, () => {
    let t: TestMonitor;
    const applied: { lineId: string; type: string }[] = [];
    const port: LineActionPort = {
      async applyLineAction(lineId, action) {
        applied.push({ lineId, type: action.type });
        return { status: 'APPLIED' };
      },
    };
    beforeEach(async () => {
      applied.length = 0;
      t = await openTestMonitor({ features: features.open(), deps: { lineActions: port } });
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

    /** A takeover of carol's account: the attacker's device, a password reset, a new payee, a draw. */
    const takeover = () => {
      const a = { userId: 'carol', deviceId: 'dev-attacker', ip: '203.0.113.9' };
      return [
        ev('login', T0 - 30 * MIN, a),
        ev('password_reset', T0 - 25 * MIN, a),
        ev('payee_added', T0 - 10 * MIN, { ...a, payeeId: 'mule-1' }),
        ev('disbursement', T0, { ...a, lineId: 'line-carol', ...money(20_000) }),
      ];
    };

    it('one event dated years ahead does not prune every borrower’s history (a takeover is still seen)', async () => {
      await receiveLive(t, history('carol'));
      // Another borrower's app, its clock set ten years ahead: the retention horizon followed it and pruned every
      // window, link and id older than 91 days before 2035, so carol had no history and the takeover looked like a
      // new borrower.
      await t.monitor.ingest([ev('login', T0 + 3650 * DAY, { userId: 'mallory', deviceId: 'dev-m' })]);
      expect(await fired(takeover())).toContain('ACCOUNT_TAKEOVER');
    });
    it('ACCOUNT_TAKEOVER: a login dated ten days back from the attacker’s device does not make it known', async () => {
      await receiveLive(t, history('carol'));
      // Sent just before the takeover, claiming the attacker's phone was carol's ten days ago.
      t.clock.set(T0 - HOUR);
      await t.monitor.ingest([
        ev('login', T0 - 10 * DAY, { userId: 'carol', deviceId: 'dev-attacker', ip: '203.0.113.9' }),
      ]);
      t.clock.set(T0);
      expect(await fired(takeover())).toContain('ACCOUNT_TAKEOVER');
    });

    it('ACCOUNT_TAKEOVER: quiet for a second phone the borrower used ten days ago, received then', async () => {
      await receiveLive(t, [
        ...history('carol'),
        ev('login', T0 - 10 * DAY, { userId: 'carol', deviceId: 'dev-carol-2', ip: '203.0.113.9' }),
      ]);
      const own = takeover().map((e) => ({ ...e, deviceId: 'dev-carol-2' }));
      expect(await fired(own)).not.toContain('ACCOUNT_TAKEOVER');
    });

    it('draw signals: a login dated ten days back does not make a new device known', async () => {
      await receiveLive(t, history('dina'));
      t.clock.set(T0 - HOUR);
      await t.monitor.ingest([ev('login', T0 - 10 * DAY, { userId: 'dina', deviceId: 'dev-new' })]);
      t.clock.set(T0);
      const drawFrom = (deviceId: string) => t.monitor.drawSignals({ borrowerId: 'dina', deviceId, at: T0 });
      expect((await drawFrom('dev-new')).userNewDevice24h).toBe(true);
      expect((await drawFrom('dev-dina')).userNewDevice24h).toBe(false);
    });

    /**
     * A scam on the borrower's own account with only the call as amplifier (not dormant, not unusual, payee added hours
     * before): the smallest pattern the pack fires on, so an evasion that removes one piece silences it.
     */
    const callScam = (user: string) => {
      const u = { userId: user, deviceId: `dev-${user}` };
      return {
        history: history(user),
        added: ev('payee_added', T0 - 5 * HOUR, { ...u, payeeId: `safe-${user}` }),
        call: ev('call_in_progress', T0 - 20 * MIN, u),
        draw: ev('disbursement', T0, { ...u, lineId: `line-${user}`, ...money(8_000) }),
        out: ev('transfer_out', T0 + 10 * MIN, {
          ...u,
          payeeId: `safe-${user}`,
          payeeCreatedAt: T0 - 5 * HOUR,
          ...money(7_000),
        }),
      };
    };

    it('an app event naming another borrower’s line does not get that line frozen', async () => {
      await receiveLive(t, history('alice'));
      const s = callScam('mallory');
      await receiveLive(t, s.history);
      // Mallory's own pattern; her app's events name alice's line (the core's own disbursement names hers).
      const outcomes = await t.monitor.ingest([
        ev('login', T0 - HOUR, { userId: 'mallory', deviceId: 'dev-mallory', lineId: 'line-alice' }),
        s.added,
        s.call,
        s.draw,
        { ...s.out, lineId: 'line-alice' },
      ]);
      const last = outcomes[outcomes.length - 1];
      expect(last?.typologies.map((f) => f.id)).toEqual(['SCAM_SAFE_ACCOUNT_TRANSFER']);
      expect(last?.actions.find((a) => a.type === 'FREEZE_DRAW')?.lineId).toBe('line-mallory');
      await t.monitor.close();
      expect(applied).toEqual([{ lineId: 'line-mallory', type: 'FREEZE_DRAW' }]);
      const alert = await t.store.db
        .selectFrom('monitor_alerts')
        .select(['line_id'])
        .where('user_id', '=', 'mallory')
        .executeTakeFirstOrThrow();
      expect(alert.line_id).toBe('line-mallory');
    });

    it('an app event naming one of the borrower’s own lines still acts on that line', async () => {
      const s = callScam('nina');
      await receiveLive(t, s.history);
      await t.monitor.ingest([
        // A second line of nina's, known from the core's own event.
        ev('application', T0 - 10 * DAY, { userId: 'nina', deviceId: 'dev-nina', lineId: 'line-nina-2' }),
        s.added,
        s.call,
        s.draw,
        { ...s.out, lineId: 'line-nina-2' },
      ]);
      await t.monitor.close();
      expect(applied).toEqual([{ lineId: 'line-nina-2', type: 'FREEZE_DRAW' }]);
    });
    it('SCAM: a call reported after the transfer it preceded still counts (the SDK uploads late)', async () => {
      const s = callScam('sam');
      await receiveLive(t, s.history);
      await t.monitor.ingest([s.added, s.draw, s.out]);
      const [late] = await t.monitor.ingest([s.call]);
      expect(late?.typologies.map((f) => f.id)).toEqual(['SCAM_SAFE_ACCOUNT_TRANSFER']);
      expect(late?.actions.map((a) => a.type)).toEqual(['HOLD', 'COOLDOWN', 'FREEZE_DRAW']);
      await t.monitor.close();
      expect(applied).toEqual([{ lineId: 'line-sam', type: 'FREEZE_DRAW' }]);
    });

    it('SCAM: quiet for a call that came after the transfer, in order', async () => {
      const s = callScam('tess');
      await receiveLive(t, s.history);
      expect(await fired([s.added, s.draw, s.out, { ...s.call, occurredAt: T0 + 30 * MIN }])).toEqual([]);
    });

    it('ACCOUNT_TAKEOVER: the new device and the reset reported after the core’s disbursement', async () => {
      const a = { userId: 'carol', deviceId: 'dev-attacker', ip: '203.0.113.9' };
      await receiveLive(t, history('carol'));
      // The core's disbursement names no device; the attacker's app events arrive after it.
      await t.monitor.ingest([
        {
          ...ev('disbursement', T0, { userId: 'carol', lineId: 'line-carol', ...money(20_000) }),
          deviceId: undefined,
          ip: undefined,
        },
      ]);
      const got = await fired([ev('login', T0 - 30 * MIN, a), ev('password_reset', T0 - 25 * MIN, a)]);
      expect(got).toContain('ACCOUNT_TAKEOVER');
    });

    it('ACCOUNT_TAKEOVER: quiet for a reset on the usual device, a draw, then a new phone after the draw', async () => {
      const u = { userId: 'erin', deviceId: 'dev-erin' };
      await receiveLive(t, history('erin'));
      expect(
        await fired([
          ev('password_reset', T0 - HOUR, u),
          ev('disbursement', T0, { ...u, lineId: 'line-erin', ...money(5_000) }),
          ev('login', T0 + HOUR, { userId: 'erin', deviceId: 'dev-erin-new-phone' }),
        ]),
      ).toEqual([]);
    });
    it('SCAM: one fen sent from a device the borrower never used does not hide the rest', async () => {
      const s = callScam('uma');
      await receiveLive(t, s.history);
      await t.monitor.ingest([s.added, s.call, s.draw]);
      // Coached: "first a test transfer of one fen from your other phone".
      await t.monitor.ingest([
        ev('transfer_out', T0 + 5 * MIN, {
          userId: 'uma',
          deviceId: 'uma-other-phone',
          payeeId: 'test-payee',
          payeeCreatedAt: T0,
          amountMinor: 1,
          currency: 'CNY',
        }),
      ]);
      expect(await fired([s.out])).toEqual(['SCAM_SAFE_ACCOUNT_TRANSFER']);
    });

    it('SCAM: still left to ACCOUNT_TAKEOVER when the money leaves from the attacker’s device only', async () => {
      const s = callScam('vic');
      const attacker = { deviceId: 'dev-attacker' };
      await receiveLive(t, s.history);
      expect(await fired([s.added, s.call, s.draw, { ...s.out, ...attacker }])).not.toContain(
        'SCAM_SAFE_ACCOUNT_TRANSFER',
      );
    });
    it('CASH_OUT: the money looping back from the merchant in two halves', async () => {
      const u = { userId: 'gina', deviceId: 'dev-gina' };
      const got = await fired([
        ev('purchase', T0, { ...u, merchantId: 'm-y', merchantCategory: '5999', ...money(9_876) }),
        ev('transfer_in', T0 + 3 * HOUR, { ...u, merchantId: 'm-y', ...money(4_900) }),
        ev('transfer_in', T0 + 4 * HOUR, { ...u, merchantId: 'm-y', ...money(4_900) }),
      ]);
      expect(got).toEqual(['CASH_OUT']);
    });

    it('CASH_OUT: quiet for a purchase refunded in two parts and a small payment from the merchant', async () => {
      const u = { userId: 'hal', deviceId: 'dev-hal' };
      const refund = { attributes: { kind: 'refund' } };
      expect(
        await fired([
          ev('purchase', T0, { ...u, merchantId: 'tv-shop', merchantCategory: '5732', ...money(6_543) }),
          ev('transfer_in', T0 + DAY, { ...u, merchantId: 'tv-shop', ...refund, ...money(3_000) }),
          ev('transfer_in', T0 + DAY + HOUR, { ...u, merchantId: 'tv-shop', ...refund, ...money(3_000) }),
          ev('transfer_in', T0 + DAY + 2 * HOUR, { ...u, merchantId: 'tv-shop', ...money(300) }),
        ]),
      ).toEqual([]);
    });
    it('DEVICE_FARM: one IPv4 address written as itself and as IPv4-mapped IPv6 is one address', async () => {
      const ips = [
        '198.51.100.7',
        '::ffff:198.51.100.7',
        '::FFFF:198.51.100.7',
        '::ffff:c633:6407',
        '198.51.100.7',
      ];
      const got = await fired(
        ips.map((ip, i) => ev('application', T0 + i * MIN, { userId: `h${i}`, deviceId: `d${i}`, ip })),
      );
      expect(got).toContain('DEVICE_FARM');
      const signals = await t.monitor.drawSignals({
        borrowerId: 'h0',
        ip: '::ffff:198.51.100.7',
        at: T0 + HOUR,
      });
      expect(signals.ipDistinctUsers24h).toBe(5);
    });

    it('DEVICE_FARM: one device id with stray spaces or an invisible character is one device; case still counts', async () => {
      const ids = ['emu-1', 'emu-1 ', ' emu-1', 'emu-1\u200b'];
      const got = await fired(
        ids.map((d, i) =>
          ev('application', T0 + i * MIN, { userId: `f${i}`, deviceId: d, ip: `203.0.113.${i}` }),
        ),
      );
      expect(got).toContain('DEVICE_FARM');
      const cased = await fired(
        ['tab-A', 'tab-a', 'TAB-A', 'Tab-A'].map((d, i) =>
          ev('application', T0 + i * MIN, { userId: `k${i}`, deviceId: d, ip: `192.0.2.${i}` }),
        ),
      );
      expect(cased).toEqual([]);
    });

    it('SCAM: a payee added as "6222 0200 1234 5678" and paid as 6222020012345678 is one payee', async () => {
      const u = { userId: 'yan', deviceId: 'dev-yan' };
      await receiveLive(t, history('yan'));
      const got = await fired([
        ev('disbursement', T0, { ...u, lineId: 'line-yan', ...money(8_000) }),
        ev('payee_added', T0 + 5 * MIN, { ...u, payeeId: '6222 0200 1234 5678' }),
        ev('transfer_out', T0 + 10 * MIN, { ...u, payeeId: '6222020012345678', ...money(7_000) }),
      ]);
      expect(got).toEqual(['SCAM_SAFE_ACCOUNT_TRANSFER']);
    });

    /** A credit-report pull of ours, as the bureau gateway reports it. */
    const pull = (userId: string, at: number, attributes: Record<string, string>) =>
      ev('bureau_inquiry', at, { userId, channel: 'partner-q', attributes });

    it('CREDIT_REPORT_ABUSE: a purpose in another case, padded or with other separators is still that purpose', async () => {
      const approvals = [
        'loan_approval',
        ' LOAN_APPROVAL ',
        'Loan-Approval',
        'card approval',
        'LOAN_APPROVAL\u200b',
      ];
      for (const [i, purpose] of approvals.entries())
        expect(await fired([pull(`cr${i}`, T0 + i * MIN, { purpose, origin: 'self' })]), purpose).toEqual([
          'CREDIT_REPORT_ABUSE',
        ]);
      // A post-loan pull for a borrower with no loan, and an origin of ours in capitals.
      const [postLoan] = await t.monitor.ingest([
        pull('cr-post', T0, { purpose: 'post_loan_mgmt', origin: 'SELF' }),
      ]);
      expect(postLoan?.typologies.map((f) => f.rules)).toEqual([['report.noLoan']]);
    });

    it('CREDIT_REPORT_ABUSE: quiet for a lower-case approval pull after an application, or another lender’s pull', async () => {
      await t.monitor.ingest([ev('application', T0 - HOUR, { userId: 'cr-ok', channel: 'app' })]);
      expect(await fired([pull('cr-ok', T0, { purpose: 'loan_approval', origin: 'self' })])).toEqual([]);
      expect(await fired([pull('cr-ext', T0, { purpose: 'loan_approval', origin: ' External ' })])).toEqual(
        [],
      );
    });

    it('CREDIT_REPORT_ABUSE: a channel whose approval pulls name their purpose in lower case is still judged by its share', async () => {
      const outcomes = await t.monitor.ingest(
        Array.from({ length: 10 }, (_, i) =>
          pull(`cq${i}`, T0 + i * MIN, {
            purpose: i % 2 ? 'loan_approval' : 'card-approval',
            origin: 'self',
          }),
        ),
      );
      expect(outcomes[9]?.typologies[0]?.rules).toContain('report.channelUnmatched');
    });

    it('SCAM: a transfer to the safe account dated ten days back does not make the payee long-standing', async () => {
      const u = { userId: 'ivy', deviceId: 'dev-ivy' };
      await receiveLive(t, history('ivy'));
      t.clock.set(T0 - HOUR);
      // No payee_added, no payeeCreatedAt: only a one-fen transfer "ten days ago", sent now.
      await t.monitor.ingest([
        ev('transfer_out', T0 - 10 * DAY, { ...u, payeeId: 'safe-ivy', amountMinor: 1, currency: 'CNY' }),
      ]);
      t.clock.set(T0);
      const got = await fired([
        ev('call_in_progress', T0 - 20 * MIN, u),
        ev('disbursement', T0, { ...u, lineId: 'line-ivy', ...money(8_000) }),
        ev('transfer_out', T0 + 10 * MIN, { ...u, payeeId: 'safe-ivy', ...money(7_000) }),
      ]);
      expect(got).toEqual(['SCAM_SAFE_ACCOUNT_TRANSFER']);
    });

    it('SCAM: quiet for a long-standing payee written with separators this time', async () => {
      const u = { userId: 'zoe', deviceId: 'dev-zoe' };
      const landlord = { ...u, payeeId: '6222-0200-9999-0001', ...money(2_500) };
      await receiveLive(t, [...history('zoe'), ev('transfer_out', T0 - 25 * DAY, landlord)]);
      expect(
        await fired([
          ev('call_in_progress', T0 - 20 * MIN, u),
          ev('disbursement', T0, { ...u, lineId: 'line-zoe', ...money(8_000) }),
          ev('transfer_out', T0 + 10 * MIN, { ...landlord, payeeId: '6222 0200 9999 0001', ...money(7_000) }),
        ]),
      ).toEqual([]);
    });
    /** Money to a prohibited destination (a bookmaker, a broker): a transfer to a payee, or a purchase at a merchant. */
    const prohibited = (userId: string, at: number, mcc: string, yuan: number, to: Partial<MonitorEvent>) =>
      ev(to.merchantId ? 'purchase' : 'transfer_out', at, {
        userId,
        merchantCategory: mcc,
        ...to,
        ...money(yuan),
      });
    const drawOf = (userId: string, at: number, yuan: number) =>
      ev('disbursement', at, { userId, lineId: `line-${userId}`, ...money(yuan) });
    const misuseRules = async (events: MonitorEvent[]) =>
      (await t.monitor.ingest(events)).flatMap((o) =>
        o.typologies.filter((f) => f.id === 'FUND_MISUSE').flatMap((f) => f.rules),
      );

    it('FUND_MISUSE: own money added to the loan does not hide it (¥10,000 drawn, ¥25,000 bet the next day)', async () => {
      // Before: flows above maxFlowMultiple (2) x the drawn amount were judged own savings, so betting 2.5x the draw
      // silenced the pack that betting 0.9x of it fires. A bookmaker the borrower never paid, by transfer or by card.
      const cases = [
        { userId: 'fay', to: { payeeId: 'bet-365', payeeCreatedAt: T0 - DAY } },
        { userId: 'fin', to: { payeeId: 'bet-366' } },
        { userId: 'flo', to: { merchantId: 'casino-macau-1' } },
      ];
      for (const c of cases) {
        await receiveLive(t, history(c.userId));
        const rules = await misuseRules([
          drawOf(c.userId, T0, 10_000),
          prohibited(c.userId, T0 + 20 * HOUR, '7995', 25_000, c.to),
        ]);
        expect(rules, c.userId).toEqual(['misuse.prohibitedFlow', 'misuse.ownFundsAdded']);
      }
    });

    it('FUND_MISUSE: own money added to a draw sent to a brokerage account opened days before it', async () => {
      await receiveLive(t, history('gil'));
      const broker = { payeeId: 'broker-new-gil', payeeCreatedAt: T0 - 3 * DAY };
      expect(
        await misuseRules([
          drawOf('gil', T0, 10_000),
          prohibited('gil', T0 + 5 * DAY, '6211', 40_000, broker),
        ]),
      ).toEqual(['misuse.prohibitedFlow', 'misuse.ownFundsAdded']);
    });

    it('FUND_MISUSE: one bet of own money before the draw is no habit that hides the bet after it', async () => {
      const to = { payeeId: 'bet-367', payeeCreatedAt: T0 - 20 * DAY };
      await receiveLive(t, [...history('gwen'), prohibited('gwen', T0 - 10 * DAY, '7995', 25_000, to)]);
      expect(
        await misuseRules([drawOf('gwen', T0, 10_000), prohibited('gwen', T0 + DAY, '7995', 25_000, to)]),
      ).toContain('misuse.prohibitedFlow');
    });

    it('FUND_MISUSE: broker transfers dated months back but sent after the draw are no habit', async () => {
      const broker = { payeeId: 'broker-hub', payeeCreatedAt: T0 - 400 * DAY };
      await receiveLive(t, [...history('hub'), drawOf('hub', T0, 10_000)]);
      t.clock.set(T0 + HOUR);
      await t.monitor.ingest([
        prohibited('hub', T0 - 35 * DAY, '6211', 20_000, broker),
        prohibited('hub', T0 - 5 * DAY, '6211', 20_000, broker),
      ]);
      t.clock.set(T0 + 3 * DAY);
      expect(await misuseRules([prohibited('hub', T0 + 3 * DAY, '6211', 20_000, broker)])).toEqual([
        'misuse.prohibitedFlow',
      ]);
    });

    it('FUND_MISUSE: quiet for an investor repeating after a draw the broker transfers made every month before it', async () => {
      const broker = { payeeId: 'broker-ian', payeeCreatedAt: T0 - 400 * DAY };
      await receiveLive(t, [
        ...history('ian'),
        prohibited('ian', T0 - 65 * DAY, '6211', 20_000, broker),
        prohibited('ian', T0 - 35 * DAY, '6211', 20_000, broker),
        prohibited('ian', T0 - 5 * DAY, '6211', 20_000, broker),
      ]);
      expect(
        await misuseRules([
          drawOf('ian', T0, 10_000),
          prohibited('ian', T0 + 3 * DAY, '6211', 20_000, broker),
        ]),
      ).toEqual([]);
    });

    it('FUND_MISUSE: quiet for savings moved to a brokerage account registered a year before a small draw', async () => {
      const broker = { payeeId: 'broker-jon', payeeCreatedAt: T0 - 400 * DAY };
      await receiveLive(t, history('jon'));
      expect(
        await misuseRules([
          drawOf('jon', T0, 8_000),
          prohibited('jon', T0 + 21 * HOUR, '6211', 30_000, broker),
        ]),
      ).toEqual([]);
    });

    it('FUND_MISUSE: quiet for small amounts (¥4,000 bet after ¥3,000; ¥30,000 of own money bet after ¥1,000)', async () => {
      for (const [userId, drawn, bet] of [
        ['kai', 3_000, 4_000],
        ['kim', 1_000, 30_000],
      ] as const) {
        await receiveLive(t, history(userId));
        const to = { payeeId: `bet-${userId}` };
        expect(
          await misuseRules([drawOf(userId, T0, drawn), prohibited(userId, T0 + HOUR, '7995', bet, to)]),
          userId,
        ).toEqual([]);
      }
    });
  });
