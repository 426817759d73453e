import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MonitorEvent } from '../../src/monitor/events.js';
import { canonicalListValue } from '../../src/monitor/list-values.js';
import { MIN, T0, ev, openTestMonitor, type TestMonitor } from './helpers.js';

describe('one identifier, other spellings (lists and windows)', () => {
  let t: TestMonitor;
  beforeEach(async () => {
    t = await openTestMonitor();
  });
  afterEach(async () => t.close());

  it('a payee black-listed as a mobile number (an e-wallet account) still matches when paid as +86 138 0013 8000', async () => {
    await t.lists.add({
      list: 'black',
      entityType: 'payee',
      value: '13800138000',
      reason: 'safe-account mule',
      source: 'case-9',
      addedBy: 'analyst',
    });
    const hits = (v: string) => t.lists.check('payee', v, T0).length;
    expect(hits('138 0013 8000')).toBe(1); // control: separators are dropped
    expect({
      plus86: hits('+86 138 0013 8000'),
      plus86Compact: hits('+8613800138000'),
      fullWidth: hits('＋８６１３８００１３８０００'),
    }).toEqual({ plus86: 1, plus86Compact: 1, fullWidth: 1 });
  });

  it('CREDIT_REPORT_ABUSE channel rate: one channel written with a trailing space or a zero-width space is one channel', async () => {
    // 40 of our own pulls from one channel within the hour (channelRate1hMax = 30), half spelled with an invisible
    // character appended (as device ids are: "a device id with a stray space or an invisible character is one key").
    const pulls: MonitorEvent[] = [];
    for (let i = 0; i < 40; i += 1)
      pulls.push(
        ev('bureau_inquiry', T0 + i * MIN, {
          userId: `u-${i}`,
          deviceId: undefined,
          ip: undefined,
          channel: i % 2 === 0 ? 'crm-export' : 'crm-export\u200b',
          attributes: { purpose: 'SELF', origin: 'self' },
        }),
      );
    // Control: canonical forms of the two spellings agree for every keyed entity.
    expect(canonicalListValue('merchant', 'crm-export\u200b')).toBe('crm-export');
    const outcomes = await t.monitor.ingest(pulls);
    const fired = outcomes.flatMap((o) => o.typologies.map((f) => f.id));
    expect(fired).toContain('CREDIT_REPORT_ABUSE');
  });

  it('control: the same 40 pulls under one spelling fire CREDIT_REPORT_ABUSE', async () => {
    const pulls: MonitorEvent[] = [];
    for (let i = 0; i < 40; i += 1)
      pulls.push(
        ev('bureau_inquiry', T0 + i * MIN, {
          userId: `v-${i}`,
          deviceId: undefined,
          ip: undefined,
          channel: 'crm-export',
          attributes: { purpose: 'SELF', origin: 'self' },
        }),
      );
    const outcomes = await t.monitor.ingest(pulls);
    expect(outcomes.flatMap((o) => o.typologies.map((f) => f.id))).toContain('CREDIT_REPORT_ABUSE');
  });
});
