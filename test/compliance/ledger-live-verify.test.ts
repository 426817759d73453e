import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  appendToLedger,
  chainOf,
  entryHash,
  ledgerStorage,
  normaliseRow,
  useLedgerStorage,
  verifyLedger,
  type LedgerAppend,
} from '../../src/compliance/ledger.js';
import { createIsolatedPostgresSchema, openStore, type Db, type Store } from '../../src/store/db.js';
import { openReadOnlySqlite } from '../../src/store/read-only.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';

/**
 * `lineguard ledger verify` on a ledger that is still being written: an auditor's connection reads while the
 * application appends through its own (a second pool on PostgreSQL, the CLI's read-only connection beside the writer
 * on SQLite). What was appended after verification began must not read as truncation or as a gap, and real truncation
 * and a tail written past the head must still be found.
 */
interface Live {
  readonly writer: Store;
  /** The auditor's handle: another connection to the same database. */
  readonly auditor: Db;
  close(): Promise<void>;
}

const LIVE_STORES = [
  {
    name: 'sqlite',
    enabled: true,
    open: async (): Promise<Live> => {
      const path = join(mkdtempSync(join(tmpdir(), 'lg-ledger-live-')), 'lineguard.db');
      const writer = await openStore({ sqlitePath: path });
      const auditor = await openReadOnlySqlite(path);
      return { writer, auditor, close: async () => (await auditor.destroy(), await writer.close()) };
    },
  },
  {
    name: 'postgres',
    enabled: Boolean(TEST_DATABASE_URL),
    open: async (): Promise<Live> => {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'ledger_live');
      const writer = await openStore({ postgresUrl: url });
      const auditor = await openStore({ postgresUrl: url, migrate: false });
      return {
        writer,
        auditor: auditor.db,
        close: async () => (await auditor.close(), await writer.close()),
      };
    },
  },
] as const;

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const SUBJECTS = Array.from({ length: 12 }, (_, i) => `line-${i}`);
const entry = (id: string, subjectId: string): LedgerAppend => ({
  entryId: id,
  kind: 'line.action',
  subjectId,
  payload: { id, subjectId },
  recordedAt: T0,
});

/**
 * From now on every read the verifier makes of the ledger (its heads, a page of entries) is followed by `afterRead`
 * before the verifier sees the answer: appends committed between any two of its reads, deterministically.
 */
function betweenReads(afterRead: (answer: unknown) => Promise<void>): void {
  const real = ledgerStorage();
  const then =
    <A extends unknown[], R>(read: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const answer = await read(...args);
      await afterRead(answer);
      return answer;
    };
  restore.push(() => useLedgerStorage(real));
  useLedgerStorage({ ...real, entriesAfter: then(real.entriesAfter), chainHeads: then(real.chainHeads) });
}
const restore: (() => void)[] = [];
afterEach(() => restore.splice(0).forEach((undo) => undo()));

for (const kind of LIVE_STORES) {
  describe.skipIf(!kind.enabled)(`ledger verify while the ledger is written, on ${kind.name}`, () => {
    let live: Live;
    let appended = 0;
    /** One more entry committed through the writer, about the next of the subjects (several chains on PostgreSQL). */
    const appendOne = async () => {
      const n = appended++;
      const subject = SUBJECTS[n % SUBJECTS.length] as string;
      await live.writer.transaction((tx) => appendToLedger(tx, [entry(`live-${n}`, subject)]));
    };
    const entriesNow = async () =>
      Number(
        (
          await live.writer.db
            .selectFrom('ledger_entries')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    beforeAll(async () => {
      live = await kind.open();
      for (let i = 0; i < 30; i++) await appendOne();
    });
    afterAll(async () => live?.close());

    it('verifies the ledger as it stood when it began, whatever is appended between its reads', async () => {
      const before = await entriesNow();
      betweenReads(() => appendOne());
      // Small pages: appends land between the heads and the entries and between every two pages.
      expect(await verifyLedger(live.auditor, 4)).toEqual({ ok: true, entriesChecked: before });
      restore.splice(0).forEach((undo) => undo());
      const after = await entriesNow();
      expect(after).toBeGreaterThan(before + 5);
      expect(await verifyLedger(live.auditor)).toEqual({ ok: true, entriesChecked: after });
    });

    it.skipIf(kind.name !== 'postgres')(
      'verifies a chain whose entry commits behind the pages already read (its seq was drawn before it committed)',
      async () => {
        // A transaction holds an appended entry open: its seq is lower than those committed after it. Its chain is
        // none of the other appends' (they would wait on its head).
        const taken = new Set(SUBJECTS.map(chainOf));
        let subject = '';
        for (let i = 0; !subject; i++) if (!taken.has(chainOf(`held-${i}`))) subject = `held-${i}`;
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let heldSeq = 0;
        let appendedHeld: () => void = () => undefined;
        const ready = new Promise<void>((resolve) => (appendedHeld = resolve));
        const held = live.writer.transaction(async (tx) => {
          await appendToLedger(tx, [entry('held', subject)]);
          const row = await tx
            .selectFrom('ledger_entries')
            .select('seq')
            .where('entry_id', '=', 'held')
            .executeTakeFirstOrThrow();
          heldSeq = Number(row.seq);
          appendedHeld();
          await gate;
        });
        await ready;
        const committed = await entriesNow();
        for (let i = 0; i < 6; i++) await appendOne();
        // It commits once the verifier's page reads have passed its seq; more appends follow every read.
        betweenReads(async (answer) => {
          const passed =
            Array.isArray(answer) && answer.some((r: { seq: number }) => Number(r.seq) > heldSeq);
          if (passed && heldSeq > 0) {
            heldSeq = 0;
            release();
            await held;
          }
          await appendOne();
        });
        expect(await verifyLedger(live.auditor, 4)).toEqual({ ok: true, entriesChecked: committed + 6 });
        restore.splice(0).forEach((undo) => undo());
        expect(await verifyLedger(live.auditor)).toEqual({ ok: true, entriesChecked: await entriesNow() });
      },
    );

    it('still finds a chain cut at its tail while entries are appended', async () => {
      const victim = await live.writer.db
        .selectFrom('ledger_entries')
        .selectAll()
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      await live.writer.db.deleteFrom('ledger_entries').where('seq', '=', victim.seq).execute();
      try {
        betweenReads(() => appendOne());
        const result = await verifyLedger(live.auditor, 4);
        expect(result.ok).toBe(false);
        expect(result.firstBad?.problem).toMatch(/entries removed from the end|an entry was deleted/);
      } finally {
        restore.splice(0).forEach((undo) => undo());
        // Put back, the chain is whole again: what was appended meanwhile chained onto the head, i.e. onto it.
        await live.writer.db.insertInto('ledger_entries').values(victim).execute();
      }
      expect((await verifyLedger(live.auditor)).ok).toBe(true);
    });

    it('still finds an entry written past its chain head (the head never moved to it)', async () => {
      const last = normaliseRow(
        await live.writer.db
          .selectFrom('ledger_entries')
          .selectAll()
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirstOrThrow(),
      );
      const fields = {
        seq: last.seq + 1000,
        entry_id: 'forged',
        kind: 'line.action',
        subject_id: last.subject_id,
        payload: '{}',
        recorded_at: T0,
      };
      await live.writer.db
        .insertInto('ledger_entries')
        .values({
          ...fields,
          prev_hash: last.hash,
          hash: entryHash(last.hash, fields),
          chain: last.chain,
          chain_seq: last.chain_seq + 1,
        })
        .execute();
      try {
        const result = await verifyLedger(live.auditor, 4);
        expect(result.ok).toBe(false);
        expect(result.firstBad?.entryId).toBe('forged');
      } finally {
        await live.writer.db.deleteFrom('ledger_entries').where('entry_id', '=', 'forged').execute();
      }
      expect((await verifyLedger(live.auditor)).ok).toBe(true);
    });
  });
}
