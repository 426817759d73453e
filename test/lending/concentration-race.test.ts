import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { makeCore, residentId, type Harness } from '../core/harness.js';
import { releaseHeldDrawInTx } from '../../src/core/index.js';

/**
 * Issue 15, concentration per partner, as an adversary would test it: many draws on one channel at once, through two
 * instances of the core over one database. The share is read under the partner's lock inside the draw's unit of
 * work, so exactly the draws that fit are booked — never one more.
 */
const SHARE_MAX = 0.5;
const DIRECT_MINOR = 1_000_000;
const DRAW_MINOR = 300_000;
const DRAWS = 12;
/** 300k·k / (1M + 300k·k) ≤ 0.5 holds for k ≤ 3. */
const FITTING = 3;

interface TwoInstances {
  readonly name: string;
  readonly enabled: boolean;
  open(): Promise<[Store, Store, () => void]>;
}

const SETUPS: readonly TwoInstances[] = [
  {
    name: 'one SQLite file',
    enabled: true,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'lg-conc-'));
      const path = join(dir, 'book.db');
      const a = await openStore({ sqlitePath: path });
      const b = await openStore({ sqlitePath: path });
      return [a, b, () => rmSync(dir, { recursive: true, force: true })];
    },
  },
  {
    name: 'one PostgreSQL schema',
    enabled: Boolean(TEST_DATABASE_URL),
    async open() {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'lending_concentration');
      const a = await openStore({ postgresUrl: url });
      const b = await openStore({ postgresUrl: url, migrate: false });
      return [a, b, () => undefined];
    },
  },
];

for (const setup of SETUPS) {
  describe.skipIf(!setup.enabled)(`partner concentration across two instances on ${setup.name}`, () => {
    let stores: [Store, Store];
    let cleanup: () => void;
    let a: Harness;
    let b: Harness;
    beforeAll(async () => {
      const [s1, s2, done] = await setup.open();
      stores = [s1, s2];
      cleanup = done;
      a = makeCore(s1, { seed: 31 });
      b = makeCore(s2, { seed: 32 });
      for (const h of [a, b]) {
        Object.assign(h.deps, { config: { ...h.deps.config, concentrationFloorMinor: 0 } });
        h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate: 0.12 });
        h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      }
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
      cleanup();
    });

    it(`${DRAWS} simultaneous draws on one channel book exactly the ${FITTING} that fit its share`, async () => {
      const platform = await a.core.createPartner({
        name: '并发平台',
        type: 'PLATFORM_OPERATOR',
        licenceNo: 'RACE-1',
        contractStart: '2025-01-01',
        contractEnd: '2027-12-31',
        concentrationMax: SHARE_MAX,
      });
      let seq = 800;
      const open = async (h: Harness, channel: boolean) => {
        const applied = await h.core.submitApplication({
          applicant: { name: '并发客户', nationalId: residentId('19900101', ++seq), phone: `1350000${seq}` },
          attributes: {},
          ...(channel ? { channel: { partnerId: platform.id, fundingMode: 'SELF_FUNDED' as const } } : {}),
        });
        if (!applied.line) throw new Error(`not approved: ${applied.outcome}`);
        return applied.line.id;
      };
      const direct = await open(a, false);
      await a.core.requestDraw(direct, {
        amountMinor: DIRECT_MINOR,
        currency: 'CNY',
        termMonths: 12,
        method: 'EQUAL_INSTALLMENT',
      });
      const lines: string[] = [];
      for (let i = 0; i < DRAWS; i += 1) lines.push(await open(i % 2 === 0 ? a : b, true));
      const results = await Promise.allSettled(
        lines.map((lineId, i) =>
          (i % 2 === 0 ? a : b).core.requestDraw(lineId, {
            amountMinor: DRAW_MINOR,
            currency: 'CNY',
            termMonths: 12,
            method: 'EQUAL_INSTALLMENT',
          }),
        ),
      );
      const booked = results.filter((r) => r.status === 'fulfilled' && r.value.status === 'APPROVED');
      const refused = results.filter(
        (r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'LG_PARTNER_CONCENTRATION',
      );
      expect(booked).toHaveLength(FITTING);
      expect(refused).toHaveLength(DRAWS - FITTING);
      const quality = await b.core.channelQuality(platform.id);
      const book = await stores[0].db
        .selectFrom('credit_lines')
        .select((eb) => eb.fn.sum<number>('outstanding_minor').as('total'))
        .executeTakeFirst();
      expect(quality.outstandingMinor).toBe(FITTING * DRAW_MINOR);
      expect(quality.outstandingMinor / Number(book?.total)).toBeLessThanOrEqual(SHARE_MAX);
    });
  });
}

describe('partner concentration when a held draw is released', () => {
  it('a draw held for review cannot be released once the channel has filled its share meanwhile', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    try {
      const h = makeCore(store, { seed: 33 });
      Object.assign(h.deps, { config: { ...h.deps.config, concentrationFloorMinor: 0 } });
      h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate: 0.12 });
      const platform = await h.core.createPartner({
        name: '放行平台',
        type: 'PLATFORM_OPERATOR',
        licenceNo: 'HOLD-1',
        contractStart: '2025-01-01',
        contractEnd: '2027-12-31',
        concentrationMax: SHARE_MAX,
      });
      let seq = 900;
      const open = async (channel: boolean) => {
        const applied = await h.core.submitApplication({
          applicant: { name: '放行客户', nationalId: residentId('19910101', ++seq), phone: `1350001${seq}` },
          attributes: {},
          ...(channel ? { channel: { partnerId: platform.id, fundingMode: 'SELF_FUNDED' as const } } : {}),
        });
        if (!applied.line) throw new Error(`not approved: ${applied.outcome}`);
        return applied.line.id;
      };
      const draw = {
        amountMinor: DRAW_MINOR,
        currency: 'CNY',
        termMonths: 12,
        method: 'EQUAL_INSTALLMENT' as const,
      };
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      await h.core.requestDraw(await open(false), { ...draw, amountMinor: DIRECT_MINOR });
      const heldLine = await open(true);
      h.engine.script.draw = () => ({ outcome: 'HOLD', reasons: ['R_SCAM_TRANSFER_PATTERN'] });
      const held = await h.core.requestDraw(heldLine, draw);
      expect(held.status).toBe('HOLD');
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      for (let i = 0; i < FITTING; i += 1) await h.core.requestDraw(await open(true), draw);
      await expect(
        store.transaction((tx) => releaseHeldDrawInTx(h.deps, tx, held.drawId, { actor: 'user:analyst' })),
      ).rejects.toMatchObject({ code: 'LG_PARTNER_CONCENTRATION' });
      const loans = await store.db.selectFrom('loans').select('id').where('line_id', '=', heldLine).execute();
      expect(loans).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
