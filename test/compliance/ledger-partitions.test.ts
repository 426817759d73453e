import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migrator, sql, type Migration } from 'kysely';
import { ManualClock } from '../../src/domain/clock.js';
import { canonicalJson } from '../../src/domain/canonical-json.js';
import {
  appendToLedger,
  chainOf,
  entryHash,
  GENESIS_HASH,
  verifyLedger,
  type LedgerRow,
} from '../../src/compliance/ledger.js';
import {
  createLedgerEvidence,
  ledgerLeafHashes,
  readLedgerRows,
  type LedgerEvidence,
} from '../../src/compliance/evidence.js';
import { verifyAgainstCheckpoints } from '../../src/compliance/audit.js';
import { toHex, treeRoot, verifyConsistency, verifyInclusion } from '../../src/compliance/merkle.js';
import {
  CHECKPOINT_ORIGIN,
  checkCheckpoint,
  signerFromText,
  type SignedCheckpoint,
} from '../../src/compliance/signing.js';
import type { WitnessFile } from '../../src/compliance/witness.js';
import {
  createIsolatedPostgresSchema,
  migrateToLatest,
  openStore,
  searchPathSchema,
  type Db,
  type Store,
} from '../../src/store/db.js';
import { createLedgerLogStore } from '../../src/store/ledger.js';
import { writeUnit } from '../../src/store/core-draws.js';
import { openReadOnlySqlite } from '../../src/store/read-only.js';
import { allMigrations } from '../../src/store/migrations/index.js';
import { STORE_FACTORIES, TEST_DATABASE_URL } from '../helpers/stores.js';

/**
 * Issue 13's partitioned ledger with issue 16's evidence: several hash chains (PostgreSQL), one global order for the
 * Merkle log, checkpoints that sign every chain head; tampering with one chain is caught against a checkpoint; writes
 * about different lines do not wait on each other; an old single-chain database migrates and still verifies.
 */
const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const SEED = '11'.repeat(32);
const signer = signerFromText(SEED);
const hex = (text: string) => Buffer.from(text, 'hex');

function evidenceOf(store: Store, clock = new ManualClock(T0), settleWaitMsMax?: number): LedgerEvidence {
  return createLedgerEvidence({
    // Small chunks, so a checkpoint integrates over several transactions here.
    log: createLedgerLogStore(store, {
      integrateRowsMax: 7,
      ...(settleWaitMsMax === undefined ? {} : { settleWaitMsMax }),
    }),
    clock,
    signer,
  });
}

const asFiles = (checkpoints: readonly SignedCheckpoint[]): WitnessFile[] =>
  checkpoints.map((cp) => ({ file: `cp-${cp.treeSize}`, content: { ok: true, value: cp } }));

const entry = (id: string, subjectId: string, i = 0) => ({
  entryId: id,
  kind: 'line.action',
  subjectId,
  payload: { i, subjectId },
  recordedAt: T0 + i,
});

/** `count` transactions, each appending three entries about one of `subjects` lines. */
async function appendSpread(store: Store, prefix: string, count: number, subjects: readonly string[]) {
  for (let i = 0; i < count; i++) {
    const subject = subjects[i % subjects.length] as string;
    await store.transaction((tx) =>
      appendToLedger(
        tx,
        [0, 1, 2].map((k) => entry(`${prefix}-${i}-${k}`, subject, i * 3 + k)),
      ),
    );
  }
}

class RollbackSignal extends Error {}

/** Runs an attack inside a transaction that is always rolled back, so each attack sees the intact ledger. */
async function underAttack(store: Store, attack: (tx: Db) => Promise<void>): Promise<void> {
  await store
    .transaction(async (tx) => {
      await attack(tx);
      throw new RollbackSignal();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollbackSignal)) throw error;
    });
}

/** Re-links chain `chain` from position `from` on and rewrites its head, as a tamperer who knows the format would. */
async function rechain(tx: Db, chain: number, from: number): Promise<void> {
  const rows = (await readLedgerRows(tx)).filter((r) => r.chain === chain);
  let prev = from === 1 ? GENESIS_HASH : (rows[from - 2] as LedgerRow).hash;
  for (const row of rows.slice(from - 1)) {
    const hash = entryHash(prev, row);
    await tx
      .updateTable('ledger_entries')
      .set({ prev_hash: prev, hash })
      .where('seq', '=', row.seq)
      .execute();
    prev = hash;
  }
  await tx.updateTable('ledger_head').set({ seq: rows.length, hash: prev }).where('id', '=', chain).execute();
}

const LINES = Array.from({ length: 12 }, (_, i) => `line-${i}`);

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`partitioned ledger on ${factory.name}`, () => {
    let store: Store;
    let evidence: LedgerEvidence;
    const checkpoints: SignedCheckpoint[] = [];
    beforeAll(async () => {
      store = await factory.open('ledger_partitions');
      evidence = evidenceOf(store);
      await appendSpread(store, 'a', 20, LINES);
      checkpoints.push(await evidence.checkpoint());
      await appendSpread(store, 'b', 10, LINES);
      checkpoints.push(await evidence.checkpoint());
    });
    afterAll(async () => store?.close());

    it('spreads lines over chains on PostgreSQL (one chain on SQLite), each chain linked on its own', async () => {
      const rows = await readLedgerRows(store.db);
      expect(rows).toHaveLength(90);
      const chains = new Set(rows.map((r) => r.chain));
      if (factory.name === 'postgres') {
        expect(chains.size).toBeGreaterThan(4);
        for (const row of rows) expect(row.chain).toBe(chainOf(row.subject_id));
      } else {
        expect([...chains]).toEqual([1]);
        expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      }
      // Global order is kept: seq strictly increases, and within a chain so does the position.
      for (const chain of chains) {
        const own = rows.filter((r) => r.chain === chain);
        expect(own.map((r) => r.chain_seq)).toEqual(own.map((_, i) => i + 1));
      }
      expect(await verifyLedger(store.db)).toEqual({ ok: true, entriesChecked: 90 });
    });

    it('signs a checkpoint over the Merkle root and every chain head; the intact history raises no alarm', async () => {
      const [first, second] = checkpoints as [SignedCheckpoint, SignedCheckpoint];
      expect([first.treeSize, second.treeSize]).toEqual([60, 90]);
      expect(checkCheckpoint(second, signer.publicKey)).toEqual({ ok: true });
      const rows = await readLedgerRows(store.db);
      const lengths = new Map<number, number>();
      for (const r of rows) lengths.set(r.chain, r.chain_seq);
      expect(second.chains?.map((c) => [c.chain, c.length])).toEqual(
        [...lengths.entries()].sort((a, b) => a[0] - b[0]),
      );
      // The chain heads are part of what is signed: changing one breaks the signature.
      const forged = { ...second, chains: second.chains?.map((c, i) => (i === 0 ? { ...c, length: 1 } : c)) };
      expect(checkCheckpoint(forged, signer.publicKey)).toMatchObject({
        ok: false,
        problem: 'bad signature',
      });
      const result = await verifyAgainstCheckpoints(store.db, {
        files: asFiles(checkpoints),
        trustedKey: signer.publicKey,
        facts: false,
      });
      expect(result.checkpoints).toMatchObject({ matched: 2, rejected: [], contradicted: [] });
      expect(result.ok).toBe(true);
    });

    it('proves every entry and the consistency of the two checkpoints from stored subtree hashes', async () => {
      const [first, second] = checkpoints as [SignedCheckpoint, SignedCheckpoint];
      for (const row of await readLedgerRows(store.db)) {
        for (const cp of [first, second]) {
          if (factory.name === 'sqlite' && row.seq > cp.treeSize) continue;
          const index = (await evidence.inclusionProof(row.seq)).leafIndex;
          // Entries beyond a checkpoint are refused against it, never proven.
          if (index >= cp.treeSize) {
            await expect(evidence.inclusionProof(row.seq, cp.treeSize)).rejects.toMatchObject({
              code: 'LG_VALIDATION',
            });
            continue;
          }
          const proof = await evidence.inclusionProof(row.seq, cp.treeSize);
          expect(
            verifyInclusion(
              hex(proof.leafHash),
              proof.leafIndex,
              cp.treeSize,
              proof.path.map(hex),
              hex(cp.rootHash),
            ),
          ).toBe(true);
        }
      }
      const consistency = await evidence.consistency(first.treeSize, second.treeSize);
      expect(
        verifyConsistency({ from: first.treeSize, to: second.treeSize }, consistency.proof.map(hex), {
          from: hex(first.rootHash),
          to: hex(second.rootHash),
        }),
      ).toBe(true);
    });

    it("finds one chain's tail cut with its head rewritten, which the stored heads alone do not", async () => {
      const second = checkpoints[1] as SignedCheckpoint;
      const victim = second.chains?.find((c) => c.length >= 2);
      expect(victim).toBeDefined();
      const chain = victim?.chain as number;
      await underAttack(store, async (tx) => {
        const own = (await readLedgerRows(tx)).filter((r) => r.chain === chain);
        const last = own[own.length - 1] as LedgerRow;
        const before = own[own.length - 2] as LedgerRow;
        await tx.deleteFrom('ledger_entries').where('seq', '=', last.seq).execute();
        await tx
          .updateTable('ledger_head')
          .set({ seq: before.chain_seq, hash: before.hash })
          .where('id', '=', chain)
          .execute();
        expect((await verifyLedger(tx)).ok).toBe(true);
        const result = await verifyAgainstCheckpoints(tx, {
          files: asFiles(checkpoints),
          trustedKey: signer.publicKey,
          facts: false,
        });
        expect(result.ok).toBe(false);
        const found = result.checkpoints.contradicted.find((f) => f.treeSize === second.treeSize);
        expect(found?.problem).toBe('truncated');
        expect(found?.detail).toContain(`chain ${chain} was signed at ${victim?.length} entries`);
      });
    });

    it('finds an edit re-chained to pass the hash check, in any one chain', async () => {
      const second = checkpoints[1] as SignedCheckpoint;
      const victim = second.chains?.[second.chains.length - 1];
      const chain = victim?.chain as number;
      await underAttack(store, async (tx) => {
        const target = (await readLedgerRows(tx)).find((r) => r.chain === chain) as LedgerRow;
        await tx
          .updateTable('ledger_entries')
          .set({ payload: canonicalJson({ forged: true }) })
          .where('seq', '=', target.seq)
          .execute();
        expect((await verifyLedger(tx)).ok).toBe(false);
        await rechain(tx, chain, 1);
        expect((await verifyLedger(tx)).ok).toBe(true);
        const result = await verifyAgainstCheckpoints(tx, {
          files: asFiles(checkpoints),
          trustedKey: signer.publicKey,
          facts: false,
        });
        expect(result.ok).toBe(false);
        expect(result.checkpoints.contradicted.map((f) => f.problem)).toContain('rewritten');
        expect(result.checkpoints.contradicted.find((f) => f.treeSize === 90)?.detail).toContain(
          `chain ${chain}`,
        );
      });
    });

    it('refuses a proof when the stored entry no longer matches its leaf', async () => {
      await underAttack(store, async (tx) => {
        await tx.updateTable('ledger_entries').set({ kind: 'forged' }).where('seq', '=', 1).execute();
        const log = createLedgerLogStore({ ...store, db: tx });
        const attacked = createLedgerEvidence({ log, clock: new ManualClock(T0), signer });
        await expect(attacked.inclusionProof(1, 60)).rejects.toMatchObject({
          code: 'LG_LEDGER_INCONSISTENT',
        });
      });
    });
  });
}

describe.skipIf(!TEST_DATABASE_URL)('partitioned ledger under concurrency on PostgreSQL', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({
      postgresUrl: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'ledger_concurrency'),
    });
  });
  afterAll(async () => store?.close());

  /** A transaction that appended about `subject` and stays open until released. */
  function holdOpen(subject: string, id: string) {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let appended: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (appended = resolve));
    const done = store.transaction(async (tx) => {
      await appendToLedger(tx, [entry(id, subject)]);
      appended();
      await gate;
    });
    return { ready, release, done };
  }

  /** Two subjects on different chains, and a third on the first one's chain. */
  function subjects(): { a: string; b: string; sameAsA: string } {
    const a = 'line-alpha';
    const b = LINES.find((s) => chainOf(s) !== chainOf(a)) as string;
    let sameAsA = '';
    for (let i = 0; !sameAsA; i++) if (chainOf(`line-${i}-x`) === chainOf(a)) sameAsA = `line-${i}-x`;
    return { a, b, sameAsA };
  }

  it('an append about another line commits while a transaction holds one line open; the same chain waits', async () => {
    const { a, b, sameAsA } = subjects();
    const held = holdOpen(a, 'held-a');
    await held.ready;
    // Another line: its own chain head, so it commits with the first transaction still open.
    const other = store.transaction((tx) => appendToLedger(tx, [entry('other-b', b)]));
    const outcome = await Promise.race([
      other.then(() => 'committed' as const),
      sleep(20_000).then(() => 'still waiting' as const),
    ]);
    expect(outcome).toBe('committed');
    // The control: a subject on the held chain does wait on that chain's head row (PostgreSQL reports the lock wait).
    let pid = 0;
    let pidKnown: () => void = () => undefined;
    const pidReady = new Promise<void>((resolve) => (pidKnown = resolve));
    const same = store.transaction(async (tx) => {
      const row = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
      pid = Number(row.rows[0]?.pid);
      pidKnown();
      await appendToLedger(tx, [entry('same-chain', sameAsA)]);
    });
    await pidReady;
    let waiting = false;
    for (let i = 0; i < 2_000 && !waiting; i++) {
      const state = await sql<{
        wait_event_type: string | null;
      }>`select wait_event_type from pg_stat_activity where pid = ${pid}`.execute(store.db);
      waiting = state.rows[0]?.wait_event_type === 'Lock';
      if (!waiting) await sleep(10);
    }
    expect(waiting).toBe(true);
    held.release();
    await Promise.all([held.done, same]);
    const rows = await readLedgerRows(store.db);
    const sameRow = rows.find((r) => r.entry_id === 'same-chain') as LedgerRow;
    const heldRow = rows.find((r) => r.entry_id === 'held-a') as LedgerRow;
    // Chained after the held entry, with a later seq, although it started while that one was uncommitted.
    expect(sameRow.chain).toBe(heldRow.chain);
    expect(sameRow.prev_hash).toBe(heldRow.hash);
    expect(sameRow.seq).toBeGreaterThan(heldRow.seq);
    expect((await verifyLedger(store.db)).ok).toBe(true);
  });

  it("a unit's one statement locks its chain head and reserves the seqs; a transaction keeps to the head it holds", async () => {
    const { a, b } = subjects();
    const ledger = (prefix: string, subject: string) =>
      [0, 1, 2].map((k) => entry(`${prefix}-${k}`, subject, 100 + k));
    const refused = () => Promise.resolve(new Error('no debit in this unit'));
    // Alone: the entries go to their first subject's chain, in order, linked to that chain's head.
    await store.transaction((tx) => writeUnit(tx, { ledger: ledger('unit-b', b), outbox: [] }, refused));
    // After an append about another line in the same transaction: still that first chain (one head per transaction,
    // so two transactions can never deadlock on heads).
    await store.transaction(async (tx) => {
      await appendToLedger(tx, [entry('first-a', a)]);
      await writeUnit(tx, { ledger: ledger('then-b', b), outbox: [] }, refused);
    });
    const rows = await readLedgerRows(store.db);
    const of = (id: string) => rows.find((r) => r.entry_id === id) as LedgerRow;
    const alone = [0, 1, 2].map((k) => of(`unit-b-${k}`));
    expect(alone.map((r) => r.chain)).toEqual([chainOf(b), chainOf(b), chainOf(b)]);
    expect(alone[1]!.prev_hash).toBe(alone[0]!.hash);
    expect(alone[1]!.seq).toBeGreaterThan(alone[0]!.seq);
    expect(alone[2]!.seq).toBeGreaterThan(alone[1]!.seq);
    const after = [0, 1, 2].map((k) => of(`then-b-${k}`));
    expect(after.map((r) => r.chain)).toEqual([chainOf(a), chainOf(a), chainOf(a)]);
    expect(after[0]!.prev_hash).toBe(of('first-a').hash);
    expect((await verifyLedger(store.db)).ok).toBe(true);
  });

  it("a unit's one statement hashes its entries as the ledger does, whatever their text; later appends chain on", async () => {
    const { b } = subjects();
    // Text PostgreSQL must hash byte for byte as JavaScript does: multi-byte UTF-8, an astral character, escapes, and
    // a payload that spells the very member the statement puts the seq into.
    const awkward = [
      { note: '暂停服务 — 借呗 🚀', quote: 'a "quoted" \\ back\\slash', seq: '"seq":0,' },
      { line: '\u2028 \n\t tab', nested: { '"seq"': 0, deep: [1.5, -0, 1e21, null, true] } },
      { empty: '' },
    ];
    const refused = () => Promise.resolve(new Error('no debit in this unit'));
    await store.transaction(async (tx) => {
      await writeUnit(
        tx,
        {
          ledger: awkward.map((payload, k) => ({
            entryId: `awkward-${k}`,
            kind: 'line.action',
            subjectId: `${b}-ü`,
            payload,
            recordedAt: T0 + 1_000 + k,
          })),
          outbox: [],
        },
        refused,
      );
      // After the statement appended: this transaction chains on the head it left.
      await appendToLedger(tx, [entry('after-awkward', b)]);
    });
    const rows = await readLedgerRows(store.db);
    const of = (id: string) => rows.find((r) => r.entry_id === id) as LedgerRow;
    const written = [0, 1, 2].map((k) => of(`awkward-${k}`));
    for (const row of written) expect(row.hash).toBe(entryHash(row.prev_hash, row));
    expect(written[1]!.prev_hash).toBe(written[0]!.hash);
    expect(written[2]!.prev_hash).toBe(written[1]!.hash);
    expect(written.map((r) => r.chain_seq)).toEqual([1, 2, 3].map((k) => written[0]!.chain_seq - 1 + k));
    expect(of('after-awkward').prev_hash).toBe(written[2]!.hash);
    expect(of('after-awkward').chain).toBe(written[0]!.chain);
    const head = await sql<{ seq: string; hash: string }>`select seq, hash from ledger_head where id = ${
      written[0]!.chain
    }`.execute(store.db);
    expect([Number(head.rows[0]!.seq), head.rows[0]!.hash]).toEqual([
      Number(of('after-awkward').chain_seq),
      of('after-awkward').hash,
    ]);
    expect((await verifyLedger(store.db)).ok).toBe(true);
  });

  it('a checkpoint takes only the settled prefix: an entry committed past an open one waits for it', async () => {
    const { a, b } = subjects();
    const evidence = evidenceOf(store, new ManualClock(T0), 30_000);
    const impatient = evidenceOf(store, new ManualClock(T0), 0);
    const before = await evidence.checkpoint();
    const held = holdOpen(a, 'held-again');
    await held.ready;
    await store.transaction((tx) => appendToLedger(tx, [entry('committed-after', b)]));
    const rows = await readLedgerRows(store.db);
    const later = rows.find((r) => r.entry_id === 'committed-after') as LedgerRow;
    // The later seq is committed, but the earlier one is not settled: the tree must not take the later one yet.
    const during = await impatient.checkpoint();
    expect(during.treeSize).toBe(before.treeSize);
    await expect(impatient.inclusionProof(later.seq)).rejects.toMatchObject({ code: 'LG_CONFLICT' });
    held.release();
    await held.done;
    const after = await evidence.checkpoint();
    expect(after.treeSize).toBe(before.treeSize + 2);
    const heldRow = (await readLedgerRows(store.db)).find((r) => r.entry_id === 'held-again') as LedgerRow;
    const first = await evidence.inclusionProof(heldRow.seq);
    const second = await evidence.inclusionProof(later.seq);
    expect(first.leafIndex).toBe(before.treeSize);
    expect(second.leafIndex).toBe(before.treeSize + 1);
    const consistency = await evidence.consistency(before.treeSize, after.treeSize);
    expect(
      verifyConsistency({ from: before.treeSize, to: after.treeSize }, consistency.proof.map(hex), {
        from: hex(before.rootHash),
        to: hex(after.rootHash),
      }),
    ).toBe(true);
  });

  it('a rolled-back append leaves a gap in seq that is neither a leaf nor an alarm', async () => {
    const evidence = evidenceOf(store, new ManualClock(T0), 30_000);
    await store
      .transaction(async (tx) => {
        await appendToLedger(tx, [entry('rolled-back', 'line-gap')]);
        throw new RollbackSignal();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RollbackSignal)) throw error;
      });
    await store.transaction((tx) => appendToLedger(tx, [entry('after-gap', 'line-gap')]));
    const cp = await evidence.checkpoint();
    expect((await verifyLedger(store.db)).ok).toBe(true);
    const result = await verifyAgainstCheckpoints(store.db, {
      files: asFiles([cp]),
      trustedKey: signer.publicKey,
      facts: false,
    });
    expect(result.ok).toBe(true);
    expect(cp.treeSize).toBe((await readLedgerRows(store.db)).length);
  });
});

/** The migrations an old database had run: everything before the partitioning. */
/** The single-chain ledger's schema: every migration but the partitions and those that build on them. */
const PARTITIONED = new Set(['650_ledger_partitions', '651_ledger_chain_head_index']);
const OLD_MIGRATIONS: Record<string, Migration> = Object.fromEntries(
  Object.entries(allMigrations).filter(([name]) => !PARTITIONED.has(name)),
);

/** Writes `count` entries as the single-chain ledger did, and its head. */
async function writeOldChain(db: Db, count: number): Promise<void> {
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const base = {
      seq,
      entry_id: `old-${seq}`,
      kind: 'decision',
      subject_id: `line-${seq % 5}`,
      payload: canonicalJson({ seq }),
      recorded_at: T0 + seq,
    };
    const hash = entryHash(prev, base);
    await sql`insert into ledger_entries (seq, entry_id, kind, subject_id, payload, recorded_at, prev_hash, hash)
      values (${seq}, ${base.entry_id}, ${base.kind}, ${base.subject_id}, ${base.payload}, ${base.recorded_at}, ${prev}, ${hash})`.execute(
      db,
    );
    prev = hash;
  }
  await sql`update ledger_head set seq = ${count}, hash = ${prev} where id = 1`.execute(db);
}

const OLD_STORES = [
  {
    name: 'sqlite',
    enabled: true,
    async open() {
      const path = join(mkdtempSync(join(tmpdir(), 'lg-old-ledger-')), 'old.db');
      return { store: await openStore({ sqlitePath: path, migrate: false }), path, schema: undefined };
    },
  },
  {
    name: 'postgres',
    enabled: Boolean(TEST_DATABASE_URL),
    async open() {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'ledger_old');
      return {
        store: await openStore({ postgresUrl: url, migrate: false }),
        path: '',
        schema: searchPathSchema(url),
      };
    },
  },
];

for (const old of OLD_STORES) {
  describe.skipIf(!old.enabled)(`an old single-chain ledger on ${old.name}`, () => {
    it('migrates: verify still passes, old checkpoints still match and prove, new entries chain on', async () => {
      const { store, path, schema } = await old.open();
      try {
        const migrator = new Migrator({
          db: store.db,
          provider: { getMigrations: async () => OLD_MIGRATIONS },
          allowUnorderedMigrations: true,
          ...(schema ? { migrationTableSchema: schema } : {}),
        });
        expect((await migrator.migrateToLatest()).error).toBeUndefined();
        await writeOldChain(store.db, 25);
        // A checkpoint as the single-chain ledger signed it: four lines, no chain heads.
        const leaves = (await readLedgerRows(store.db)).length;
        expect(leaves).toBe(25);
        const oldCheckpoint = signer.sign({
          origin: CHECKPOINT_ORIGIN,
          treeSize: 25,
          rootHash: toHex(treeRoot(ledgerLeafHashes(await readLedgerRows(store.db)))),
          issuedAt: T0,
        });
        await sql`insert into ledger_checkpoints (tree_size, root_hash, issued_at, origin, key_id, signature)
          values (25, ${oldCheckpoint.rootHash}, ${T0}, ${CHECKPOINT_ORIGIN}, ${oldCheckpoint.keyId}, ${oldCheckpoint.signature})`.execute(
          store.db,
        );
        if (path) {
          // `ledger verify` reads without migrating: an unmigrated file verifies as it did.
          const readOnly = await openReadOnlySqlite(path);
          expect(await verifyLedger(readOnly)).toEqual({ ok: true, entriesChecked: 25 });
          await readOnly.destroy();
        }
        await migrateToLatest(store.db, schema);
        expect(await verifyLedger(store.db)).toEqual({ ok: true, entriesChecked: 25 });
        const files = asFiles([oldCheckpoint]);
        expect(
          (await verifyAgainstCheckpoints(store.db, { files, trustedKey: signer.publicKey, facts: false }))
            .ok,
        ).toBe(true);
        await appendSpread(store, 'new', 6, LINES);
        const rows = await readLedgerRows(store.db);
        expect(rows.slice(25).every((r) => r.seq > 25)).toBe(true);
        expect(await verifyLedger(store.db)).toEqual({ ok: true, entriesChecked: 43 });
        const evidence = evidenceOf(store);
        // A proof against the old checkpoint: the tree is integrated from the start on first use.
        const proof = await evidence.inclusionProof(7, 25);
        expect(
          verifyInclusion(
            hex(proof.leafHash),
            proof.leafIndex,
            25,
            proof.path.map(hex),
            hex(oldCheckpoint.rootHash),
          ),
        ).toBe(true);
        const latest = await evidence.checkpoint();
        expect(latest.treeSize).toBe(43);
        expect(latest.chains?.length).toBeGreaterThan(0);
        const consistency = await evidence.consistency(25, 43);
        expect(
          verifyConsistency({ from: 25, to: 43 }, consistency.proof.map(hex), {
            from: hex(oldCheckpoint.rootHash),
            to: hex(latest.rootHash),
          }),
        ).toBe(true);
        const all = await verifyAgainstCheckpoints(store.db, {
          files: asFiles([oldCheckpoint, latest]),
          trustedKey: signer.publicKey,
          facts: false,
        });
        expect(all.checkpoints).toMatchObject({ matched: 2, contradicted: [], rejected: [] });
      } finally {
        await store.close();
      }
    });
  });
}
