import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { ensureApiKey } from '../../src/api/api-keys.js';
import { requestLogLine } from '../../src/api/server.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ListService } from '../../src/monitor/lists.js';
import { monitorListStore } from '../../src/store/monitor-lists.js';
import { createCoreServices, type CoreServices } from '../../src/core/index.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp } from '../helpers/app.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, makeCore, openLine, residentId, T0, type Harness } from './harness.js';

/** Issue 12, "blacklists do not block": the core looks the lists up itself and the caller cannot override them. */

const DRAW = { amountMinor: 100_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' } as const;
const APPLY = { monthlyIncomeMinor: 1_000_000 };

describe('the core looks the lists up itself', () => {
  let store: Store;
  let h: Harness;
  let lists: ListService;
  let core: CoreServices;
  const blacklist = (entityType: 'nationalIdHash' | 'phoneHash' | 'device' | 'ip' | 'payee', value: string) =>
    lists.add({
      list: 'black',
      entityType,
      value,
      reason: 'confirmed fraud',
      source: 'case-1',
      addedBy: 'analyst',
    });
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
    // Another instance's ListService: what it adds is seen by this core through the shared store, not memory.
    lists = new ListService(monitorListStore(store), {
      clock: new ManualClock(T0),
      ids: uuidv7Generator(new ManualClock(T0), seededRandom(3)),
      masterKey: Buffer.alloc(32, 9),
    });
    await lists.load();
    core = createCoreServices({ ...h.deps, lists });
  });
  afterEach(async () => store.close());

  it('declines an applicant whose national ID is black-listed, with a reason, although the strategy approves', async () => {
    await blacklist('nationalIdHash', ADULT.nationalId);
    h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate: 0.18 });
    const result = await core.submitApplication({ applicant: ADULT, attributes: APPLY });
    expect(result.outcome).toBe('DECLINE');
    expect(result.line).toBeNull();
    expect(result.reasons[0]).toBe('R_BLACKLIST');
    expect(result.borrowerReasons[0]?.code).toBe('R_BLACKLIST');
    expect(h.engine.calls.at(-1)?.context).toMatchObject({ blacklisted: true });
  });

  it('declines an applicant whose phone is black-listed (any spelling of the number)', async () => {
    await blacklist('phoneHash', `+86 ${ADULT.phone.slice(0, 3)}-${ADULT.phone.slice(3)}`);
    const result = await core.submitApplication({ applicant: ADULT, attributes: APPLY });
    expect(result.outcome).toBe('DECLINE');
    expect(result.reasons).toContain('R_BLACKLIST');
  });

  it('declines an application from a black-listed device or IP', async () => {
    await blacklist('device', 'dev-farm-2');
    await blacklist('ip', '198.51.100.4');
    for (const from of [{ deviceId: 'dev-farm-2' }, { ip: '198.51.100.4' }]) {
      const result = await core.submitApplication({ applicant: ADULT, attributes: APPLY, ...from });
      expect(result).toMatchObject({ outcome: 'DECLINE', reasons: ['R_BLACKLIST'] });
    }
    expect(
      (await core.submitApplication({ applicant: ADULT, attributes: APPLY, deviceId: 'dev-ok' })).outcome,
    ).toBe('APPROVE');
  });

  it('declines an application from a listed IP in any spelling, and from a listed phone or ID however written', async () => {
    await blacklist('ip', '10.17.226.192');
    await blacklist('ip', '2001:db8:3da6::1');
    for (const ip of [
      '::ffff:10.17.226.192',
      '::ffff:a11:e2c0',
      '2001:0db8:3da6:0000:0000:0000:0000:0001',
      '2001:db8:3da6:0:0:0:0:1',
      '2001:DB8:3DA6::1',
    ]) {
      const result = await core.submitApplication({ applicant: ADULT, attributes: APPLY, ip });
      expect(result, ip).toMatchObject({ outcome: 'DECLINE', reasons: ['R_BLACKLIST'] });
    }
    const other = { ...ADULT, nationalId: residentId('19850505', 55), phone: '13900000055' };
    await blacklist('phoneHash', '+86 (139) 0000.0055');
    expect((await core.submitApplication({ applicant: other, attributes: APPLY })).reasons).toContain(
      'R_BLACKLIST',
    );
    await blacklist('phoneHash', '13900000056');
    for (const phone of ['+86013900000056', '013900000056']) {
      const result = await core.submitApplication({ applicant: { ...other, phone }, attributes: APPLY });
      expect(result.reasons, phone).toContain('R_BLACKLIST');
    }
    const third = { ...ADULT, nationalId: residentId('19860606', 66), phone: '13900000066' };
    const id = third.nationalId;
    await blacklist('nationalIdHash', `${id.slice(0, 6)}-${id.slice(6, 14)}-${id.slice(14)}`);
    expect((await core.submitApplication({ applicant: third, attributes: APPLY })).reasons).toContain(
      'R_BLACKLIST',
    );
  });

  it('declines a draw from a listed IP written IPv4-mapped, and to a listed card written with spaces or dashes', async () => {
    const lineId = await openLine({ ...h, core });
    h.engine.script.draw = () => ({ outcome: 'APPROVE' });
    await blacklist('ip', '10.125.103.188');
    await blacklist('ip', '2001:db8:36::5');
    await blacklist('payee', '6222717309437786');
    for (const extra of [
      { ip: '::ffff:10.125.103.188' },
      { ip: '2001:db8:36:0:0:0:0:5' },
      { payeeId: '6222 7173 0943 7786' },
      { payeeId: '6222-7173-0943-7786' },
    ]) {
      await expect(
        core.requestDraw(lineId, { ...DRAW, ...extra }),
        JSON.stringify(extra),
      ).rejects.toMatchObject({
        code: 'LG_DRAW_DECLINED',
        details: { reasons: ['R_BLACKLIST'] },
      });
    }
    expect((await core.requestDraw(lineId, { ...DRAW, ip: '::ffff:10.125.103.189' })).status).toBe(
      'APPROVED',
    );
  });

  it('refuses a caller-sent `blacklisted` (a fact only the core knows): 400, nothing written', async () => {
    h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate: 0.18 });
    await expect(
      core.submitApplication({ applicant: ADULT, attributes: { ...APPLY, blacklisted: false } }),
    ).rejects.toMatchObject({ code: 'LG_INVALID_ATTRIBUTE' });
    expect(await store.db.selectFrom('applications').select('id').execute()).toEqual([]);
  });

  it('declines a draw from a black-listed device, IP or payee, and from a borrower black-listed after the grant', async () => {
    const lineId = await openLine({ ...h, core });
    h.engine.script.draw = () => ({ outcome: 'APPROVE' });
    await blacklist('device', 'dev-farm-1');
    await blacklist('ip', '203.0.113.9');
    await blacklist('payee', 'mule-77');
    for (const extra of [{ deviceId: 'dev-farm-1' }, { ip: '203.0.113.9' }, { payeeId: 'mule-77' }]) {
      await expect(core.requestDraw(lineId, { ...DRAW, ...extra })).rejects.toMatchObject({
        code: 'LG_DRAW_DECLINED',
        details: { reasons: ['R_BLACKLIST'] },
      });
    }
    expect((await core.requestDraw(lineId, { ...DRAW, deviceId: 'dev-ok' })).status).toBe('APPROVED');
    await blacklist('nationalIdHash', ADULT.nationalId);
    await expect(core.requestDraw(lineId, { ...DRAW, deviceId: 'dev-ok' })).rejects.toMatchObject({
      code: 'LG_DRAW_DECLINED',
    });
  });
});

describe('lists through the API', () => {
  it('blocks a black-listed national ID and device end to end; the ID is never stored, returned or readable by a service key', async () => {
    const t = await startTestApp();
    try {
      const { app, server } = t;
      const serviceKey = 'lg_test_service_key_0123456789abcdef';
      await ensureApiKey(app.store.db, { clock: app.clock, ids: app.ids }, serviceKey, 'service');
      const listed = { ...ADULT, nationalId: residentId('19880808', 66), phone: '13900000066' };
      const added = await server.inject({
        method: 'POST',
        url: '/v1/lists',
        headers: adminHeaders('list-1'),
        payload: {
          list: 'black',
          entityType: 'nationalIdHash',
          value: listed.nationalId,
          reason: 'court',
          source: 'c-1',
        },
      });
      expect(added.statusCode).toBe(201);
      expect(added.body).not.toContain(listed.nationalId);
      const declined = await server.inject({
        method: 'POST',
        url: '/v1/applications',
        headers: adminHeaders('app-1'),
        payload: { applicant: listed, attributes: STRONG_APPLICANT },
      });
      expect(declined.json()).toMatchObject({ outcome: 'DECLINE', line: null });
      expect((declined.json() as { reasons: string[] }).reasons).toContain('R_BLACKLIST');

      const asAdmin = await server.inject({ method: 'GET', url: '/v1/lists', headers: adminHeaders() });
      expect(asAdmin.body).not.toContain(listed.nationalId);
      expect((asAdmin.json() as { items: { value?: string }[] }).items[0]?.value).toMatch(/^[0-9a-f]{64}$/);
      const asService = await server.inject({
        method: 'GET',
        url: '/v1/lists',
        headers: { authorization: `Bearer ${serviceKey}` },
      });
      expect(asService.statusCode).toBe(200);
      expect(
        (asService.json() as { items: { value?: string }[] }).items.every((i) => i.value === undefined),
      ).toBe(true);
      const rows = JSON.stringify(
        await app.store.db.selectFrom('monitor_list_entries').selectAll().execute(),
      );
      expect(rows).not.toContain(listed.nationalId);

      // A draw from a black-listed device.
      const applied = await app.core.submitApplication({ applicant: ADULT, attributes: STRONG_APPLICANT });
      const lineId = applied.line?.id;
      if (!lineId) throw new Error(`not approved: ${applied.outcome}`);
      await server.inject({
        method: 'POST',
        url: '/v1/lists',
        headers: adminHeaders('list-2'),
        payload: {
          list: 'black',
          entityType: 'device',
          value: 'dev-farm-9',
          reason: 'device farm',
          source: 'c-2',
        },
      });
      const draw = await server.inject({
        method: 'POST',
        url: `/v1/lines/${lineId}/draws`,
        headers: adminHeaders('draw-1'),
        payload: { ...DRAW, deviceId: 'dev-farm-9' },
      });
      expect(draw.statusCode).toBe(422);
      expect((draw.json() as { error: { details: { reasons: string[] } } }).error.details.reasons).toContain(
        'R_BLACKLIST',
      );
    } finally {
      await t.close();
    }
  });
});

describe('list values through the API', () => {
  it('declines an application and a draw from a listed IPv4 written IPv4-mapped, and a draw to a listed card written with spaces', async () => {
    const t = await startTestApp();
    try {
      const { app, server } = t;
      const list = async (key: string, entityType: string, value: string) =>
        server.inject({
          method: 'POST',
          url: '/v1/lists',
          headers: adminHeaders(key),
          payload: { list: 'black', entityType, value, reason: 'fraud', source: 'c-1' },
        });
      expect((await list('ip-1', 'ip', '10.17.226.192')).statusCode).toBe(201);
      expect((await list('payee-1', 'payee', '6222717309437786')).statusCode).toBe(201);
      const listed = { ...ADULT, nationalId: residentId('19880808', 67), phone: '13900000067' };
      const declined = await server.inject({
        method: 'POST',
        url: '/v1/applications',
        headers: adminHeaders('app-1'),
        payload: { applicant: listed, attributes: STRONG_APPLICANT, ip: '::ffff:10.17.226.192' },
      });
      expect(declined.json()).toMatchObject({ outcome: 'DECLINE', line: null });
      expect((declined.json() as { reasons: string[] }).reasons).toContain('R_BLACKLIST');

      const applied = await app.core.submitApplication({ applicant: ADULT, attributes: STRONG_APPLICANT });
      const lineId = applied.line?.id;
      if (!lineId) throw new Error(`not approved: ${applied.outcome}`);
      for (const [key, extra] of [
        ['draw-1', { ip: '::ffff:a11:e2c0' }],
        ['draw-2', { payeeId: '6222 7173 0943 7786' }],
      ] as const) {
        const draw = await server.inject({
          method: 'POST',
          url: `/v1/lines/${lineId}/draws`,
          headers: adminHeaders(key),
          payload: { ...DRAW, ...extra },
        });
        expect(draw.statusCode, key).toBe(422);
        expect(
          (draw.json() as { error: { details: { reasons: string[] } } }).error.details.reasons,
        ).toContain('R_BLACKLIST');
      }
    } finally {
      await t.close();
    }
  });

  it('refuses an entry that can never match: 400 LG_VALIDATION naming the field', async () => {
    const t = await startTestApp();
    try {
      for (const [i, [entityType, value]] of [
        ['ip', 'not-an-ip'],
        ['phoneHash', '12345'],
        ['nationalIdHash', '110105194912310021'],
      ].entries()) {
        const res = await t.server.inject({
          method: 'POST',
          url: '/v1/lists',
          headers: adminHeaders(`bad-${i}`),
          payload: { list: 'black', entityType, value, reason: 'r', source: 's' },
        });
        expect(res.statusCode, `${entityType} ${value}`).toBe(400);
        expect(res.json()).toMatchObject({ error: { code: 'LG_VALIDATION', details: { field: 'value' } } });
        expect(res.body).not.toContain(value);
      }
      expect(await t.app.store.db.selectFrom('monitor_list_entries').selectAll().execute()).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`a draw reads the lists under its line's lock (${factory.name})`, () => {
    let store: Store;
    afterEach(async () => store.close());

    it('sees an entry committed after the request arrived but before the lock; grey and expired entries as such', async () => {
      store = await factory.open('draw_lists_in_lock');
      const h = makeCore(store);
      const clock = new ManualClock(T0);
      const lists = new ListService(monitorListStore(store), {
        clock,
        ids: uuidv7Generator(clock, seededRandom(4)),
        masterKey: Buffer.alloc(32, 9),
      });
      await lists.load();
      // The draw waits on its monitor signals; meanwhile another process black-lists the payee.
      let release: () => void = () => undefined;
      let arrived: () => void = () => undefined;
      const waiting = new Promise<void>((resolve) => (arrived = resolve));
      const core = createCoreServices({
        ...h.deps,
        lists,
        drawSignals: async () => {
          arrived();
          await new Promise<void>((resolve) => (release = resolve));
          return {};
        },
      });
      const lineId = await openLine({ ...h, core });
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      const draw = core.requestDraw(lineId, {
        ...DRAW,
        deviceId: 'dev-clean',
        ip: '203.0.113.9',
        payeeId: 'safe-account-1',
      });
      await waiting;
      // Long enough for a lookup made beside the signals (before the unit) to have finished: it would miss the entry.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await lists.add({
        list: 'black',
        entityType: 'payee',
        value: 'safe-account-1',
        reason: 'mule account',
        source: 'case-9',
        addedBy: 'analyst',
      });
      release();
      await expect(draw).rejects.toMatchObject({
        code: 'LG_DRAW_DECLINED',
        details: { reasons: expect.arrayContaining(['R_BLACKLIST']) },
      });
      expect(h.engine.calls.at(-1)?.context).toMatchObject({ blacklisted: true, greylisted: false });
      // An entry on another list, and an expired one, are read as such.
      await lists.add({
        list: 'grey',
        entityType: 'device',
        value: 'dev-watch',
        reason: 'watch',
        source: 'case-10',
        addedBy: 'analyst',
      });
      await lists.add({
        list: 'black',
        entityType: 'ip',
        value: '198.51.100.7',
        reason: 'expired',
        source: 'case-11',
        addedBy: 'analyst',
        expiresAt: T0 - 1,
      });
      const plain = createCoreServices({ ...h.deps, lists });
      await plain.requestDraw(lineId, { ...DRAW, deviceId: 'dev-watch', ip: '198.51.100.7' });
      expect(h.engine.calls.at(-1)?.context).toMatchObject({ blacklisted: false, greylisted: true });
    });
  });
}

describe('request log lines', () => {
  it('carry no query string, so a checked identifier never reaches a log', () => {
    const url = `/v1/lists/check?entityType=nationalIdHash&value=${ADULT.nationalId}`;
    expect(requestLogLine({ method: 'GET', url })).toEqual({ method: 'GET', url: '/v1/lists/check' });
    expect(JSON.stringify(requestLogLine({ method: 'GET', url }))).not.toContain(ADULT.nationalId);
  });
});
