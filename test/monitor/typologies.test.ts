import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MonitorEvent } from '../../src/monitor/events.js';
import type { LineActionPort } from '../../src/monitor/actions.js';
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

/** Each typology fires on its scenario and stays quiet on the near-miss that resembles it — over both feature stores. */
for (const features of FEATURE_STORES)
  describe.skipIf(!features.enabled)(`typologies (${features.name} features)`, () => {
    let t: TestMonitor;
    const applied: { lineId: string; type: string; reasons: readonly string[] }[] = [];
    const port: LineActionPort = {
      async applyLineAction(lineId, action) {
        applied.push({ lineId, type: action.type, reasons: action.reasons });
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

    const fired = async (events: MonitorEvent[]) => {
      const outcomes = await t.monitor.ingest(events);
      return new Set(outcomes.flatMap((o) => o.typologies.map((f) => f.id)));
    };

    it('SCAM_SAFE_ACCOUNT_TRANSFER: call, draw, most of it to a payee added minutes ago', async () => {
      const u = { userId: 'alice', deviceId: 'dev-alice' };
      await receiveLive(t, history('alice'));
      const outcomes = await t.monitor.ingest([
        ev('call_in_progress', T0 - 20 * MIN, u),
        ev('disbursement', T0, { ...u, lineId: 'line-alice', ...money(30_000) }),
        ev('payee_added', T0 + 5 * MIN, { ...u, payeeId: 'safe-1' }),
        ev('transfer_out', T0 + 10 * MIN, {
          ...u,
          payeeId: 'safe-1',
          payeeCreatedAt: T0 + 5 * MIN,
          ...money(28_000),
        }),
      ]);
      const last = outcomes[outcomes.length - 1];
      expect(last?.typologies.map((f) => f.id)).toEqual(['SCAM_SAFE_ACCOUNT_TRANSFER']);
      expect(last?.actions.map((a) => a.type)).toEqual(['HOLD', 'COOLDOWN', 'FREEZE_DRAW']);
      const cooldown = last?.actions.find((a) => a.type === 'COOLDOWN');
      expect(cooldown?.warning?.zh).toContain('96110');
      expect(cooldown?.warning?.en).toMatch(/scam/i);
      expect(last?.alerts[0]?.severity).toBe('critical');
      await t.monitor.close();
      expect(applied).toEqual([
        {
          lineId: 'line-alice',
          type: 'FREEZE_DRAW',
          // The freeze of the line carries the finding's reasons about the line; R_COOLING_OFF speaks of one
          // drawdown paid out later and stays with the COOLDOWN.
          reasons: ['R_SCAM_TRANSFER_PATTERN', 'R_CALL_IN_PROGRESS'],
        },
      ]);
      expect(cooldown?.reasons).toContain('R_COOLING_OFF');
      const row = await t.store.db
        .selectFrom('monitor_actions')
        .select(['status'])
        .where('type', '=', 'FREEZE_DRAW')
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('DONE');
    });

    it('SCAM: quiet when the draw goes to a long-standing payee', async () => {
      const u = { userId: 'bob', deviceId: 'dev-bob' };
      await receiveLive(t, history('bob'));
      expect(
        await fired([
          ev('call_in_progress', T0 - 20 * MIN, u),
          ev('disbursement', T0, { ...u, lineId: 'line-bob', ...money(30_000) }),
          ev('transfer_out', T0 + 10 * MIN, {
            ...u,
            payeeId: 'landlord-bob',
            payeeCreatedAt: T0 - 400 * DAY,
            ...money(28_000),
          }),
        ]),
      ).toEqual(new Set());
    });

    it('ACCOUNT_TAKEOVER: new device, password reset, payee and draw', async () => {
      const a = { userId: 'carol', deviceId: 'dev-attacker', ip: '203.0.113.9' };
      await receiveLive(t, history('carol'));
      const got = await fired([
        ev('login', T0 - 30 * MIN, a),
        ev('password_reset', T0 - 25 * MIN, a),
        ev('payee_added', T0 - 10 * MIN, { ...a, payeeId: 'mule-1' }),
        ev('disbursement', T0, { ...a, lineId: 'line-carol', ...money(20_000) }),
      ]);
      expect(got.has('ACCOUNT_TAKEOVER')).toBe(true);
    });

    it('ACCOUNT_TAKEOVER: quiet for a new phone with no reset, and for a reset on the usual device', async () => {
      const n = { userId: 'dan', deviceId: 'dev-dan-new' };
      const u = { userId: 'erin', deviceId: 'dev-erin' };
      await receiveLive(t, [...history('dan'), ...history('erin')]);
      const got = await fired([
        ev('device_change', T0 - HOUR, n),
        ev('disbursement', T0, { ...n, lineId: 'line-dan', ...money(5_000) }),
        ev('password_reset', T0 - HOUR, u),
        ev('disbursement', T0, { ...u, lineId: 'line-erin', ...money(5_000) }),
      ]);
      expect(got).toEqual(new Set());
    });

    it('DEVICE_FARM: five borrowers applying from one device; every one alerted', async () => {
      const events = ['f1', 'f2', 'f3', 'f4', 'f5'].map((userId, i) =>
        ev('application', T0 + i * MIN, { userId, deviceId: 'emu-1', ip: `198.51.100.${i}` }),
      );
      const outcomes = await t.monitor.ingest(events);
      expect(outcomes[3]?.typologies.map((f) => f.id)).toEqual(['DEVICE_FARM']);
      const alerted = await t.store.db
        .selectFrom('monitor_alerts')
        .select('user_id')
        .where('typology_id', '=', 'DEVICE_FARM')
        .execute();
      expect(new Set(alerted.map((a) => a.user_id))).toEqual(new Set(['f1', 'f2', 'f3', 'f4', 'f5']));
    });

    it('DEVICE_FARM: quiet for a family of three on one tablet', async () => {
      const got = await fired(
        ['g1', 'g2', 'g3'].map((userId, i) =>
          ev('login', T0 + i * HOUR, { userId, deviceId: 'family-tablet' }),
        ),
      );
      expect(got).toEqual(new Set());
    });

    it('CASH_OUT: round purchases at one merchant, and money looping back', async () => {
      const u = { userId: 'frank', deviceId: 'dev-frank' };
      const got = await fired([
        ev('purchase', T0, { ...u, merchantId: 'm-x', merchantCategory: '5999', ...money(5_000) }),
        ev('purchase', T0 + 6 * HOUR, { ...u, merchantId: 'm-x', merchantCategory: '5999', ...money(3_000) }),
        ev('purchase', T0 + 30 * HOUR, {
          ...u,
          merchantId: 'm-x',
          merchantCategory: '5999',
          ...money(8_000),
        }),
      ]);
      expect(got.has('CASH_OUT')).toBe(true);
      const loop = await fired([
        ev('purchase', T0, { userId: 'gina', merchantId: 'm-y', merchantCategory: '5999', ...money(4_321) }),
        ev('transfer_in', T0 + 3 * HOUR, { userId: 'gina', merchantId: 'm-y', ...money(4_100) }),
      ]);
      expect(loop.has('CASH_OUT')).toBe(true);
    });

    it('CASH_OUT: quiet for weekly groceries and a refunded purchase', async () => {
      const u = { userId: 'hank' };
      const got = await fired([
        ...[0, 7, 14].map((d) =>
          ev('purchase', T0 + d * DAY, {
            ...u,
            merchantId: 'grocer',
            merchantCategory: '5411',
            amountMinor: 23_456,
            currency: 'CNY',
          }),
        ),
        ev('purchase', T0, { ...u, merchantId: 'tv-shop', merchantCategory: '5732', ...money(6_000) }),
        ev('transfer_in', T0 + DAY, {
          ...u,
          merchantId: 'tv-shop',
          attributes: { kind: 'refund' },
          ...money(6_000),
        }),
      ]);
      expect(got).toEqual(new Set());
    });

    it('LOAN_STACKING: inquiry burst across lenders; borrowing to repay another lender', async () => {
      const burst = await fired(
        [1, 2, 3, 4, 5].map((i) =>
          ev('bureau_inquiry', T0 + i * DAY, {
            userId: 'ivy',
            channel: `lender-${i}`,
            attributes: { purpose: 'LOAN_APPROVAL', origin: 'external' },
          }),
        ),
      );
      expect(burst.has('LOAN_STACKING')).toBe(true);
      const repay = await fired([
        ev('disbursement', T0, { userId: 'jack', lineId: 'line-jack', ...money(10_000) }),
        ev('transfer_out', T0 + 5 * HOUR, {
          userId: 'jack',
          payeeId: 'other-bank',
          merchantCategory: '6012',
          payeeCreatedAt: T0 - 100 * DAY,
          ...money(9_000),
        }),
      ]);
      expect(repay.has('LOAN_STACKING')).toBe(true);
    });

    it('LOAN_STACKING: quiet for rate shopping (3 inquiries)', async () => {
      const got = await fired(
        [1, 2, 3].map((i) =>
          ev('bureau_inquiry', T0 + i * DAY, {
            userId: 'kate',
            channel: `bank-${i}`,
            attributes: { purpose: 'LOAN_APPROVAL', origin: 'external' },
          }),
        ),
      );
      expect(got).toEqual(new Set());
    });

    it('FUND_MISUSE: a draw sent to a securities broker', async () => {
      const got = await fired([
        ev('disbursement', T0, { userId: 'leo', lineId: 'line-leo', ...money(50_000) }),
        ev('transfer_out', T0 + 2 * DAY, {
          userId: 'leo',
          payeeId: 'broker',
          merchantCategory: '6211',
          payeeCreatedAt: T0 - 300 * DAY,
          ...money(45_000),
        }),
      ]);
      expect(got.has('FUND_MISUSE')).toBe(true);
    });

    it('FUND_MISUSE: quiet for investing savings with no draw, and for a lottery ticket after a draw', async () => {
      const got = await fired([
        ev('transfer_out', T0, {
          userId: 'mia',
          payeeId: 'broker',
          merchantCategory: '6211',
          payeeCreatedAt: T0 - 300 * DAY,
          ...money(30_000),
        }),
        ev('disbursement', T0, { userId: 'ned', lineId: 'line-ned', ...money(5_000) }),
        ev('purchase', T0 + HOUR, {
          userId: 'ned',
          merchantId: 'lottery',
          merchantCategory: '7995',
          ...money(20),
        }),
      ]);
      expect(got).toEqual(new Set());
    });

    it('CREDIT_REPORT_ABUSE: an approval pull with no application; quiet when an application precedes it', async () => {
      const abuse = await fired([
        ev('bureau_inquiry', T0, {
          userId: 'olga',
          channel: 'partner-z',
          attributes: { purpose: 'LOAN_APPROVAL', origin: 'self' },
        }),
      ]);
      expect(abuse.has('CREDIT_REPORT_ABUSE')).toBe(true);
      const fine = await fired([
        ev('application', T0, { userId: 'pete', channel: 'app' }),
        ev('bureau_inquiry', T0 + 2 * MIN, {
          userId: 'pete',
          channel: 'app',
          attributes: { purpose: 'LOAN_APPROVAL', origin: 'self' },
        }),
      ]);
      expect(fine).toEqual(new Set());
    });

    it('a second firing joins the open alert instead of raising a new one', async () => {
      const o = await t.monitor.ingest([
        ev('bureau_inquiry', T0, {
          userId: 'quin',
          channel: 'partner-z',
          attributes: { purpose: 'LOAN_APPROVAL', origin: 'self' },
        }),
        ev('bureau_inquiry', T0 + HOUR, {
          userId: 'quin',
          channel: 'partner-z',
          attributes: { purpose: 'LOAN_APPROVAL', origin: 'self' },
        }),
      ]);
      expect(o[0]?.alerts[0]?.new).toBe(true);
      expect(o[1]?.alerts[0]).toMatchObject({ new: false, alertId: o[0]?.alerts[0]?.alertId });
    });

    it('a white-listed borrower is not alerted', async () => {
      await t.lists.add({
        list: 'white',
        entityType: 'user',
        value: 'rita',
        reason: 'verified test account',
        source: 'ops',
        addedBy: 'k1',
      });
      expect(
        await fired([
          ev('bureau_inquiry', T0, {
            userId: 'rita',
            channel: 'partner-z',
            attributes: { purpose: 'LOAN_APPROVAL' },
          }),
        ]),
      ).toEqual(new Set());
    });

    it('thresholds are parameters: raising one silences the pack', async () => {
      const quiet = await openTestMonitor({
        deps: { parameters: { DEVICE_FARM: { deviceUsersMin: 10, ipUsersMin: 50, componentUsersMin: 50 } } },
      });
      const outcomes = await quiet.monitor.ingest(
        ['f1', 'f2', 'f3', 'f4', 'f5'].map((userId) => ev('application', T0, { userId, deviceId: 'emu-2' })),
      );
      expect(outcomes.flatMap((o) => o.typologies)).toEqual([]);
      await quiet.close();
      await expect(
        openTestMonitor({ deps: { parameters: { DEVICE_FARM: { noSuchThing: 1 } } } }),
      ).rejects.toThrow(/no parameter/);
    });
  });
