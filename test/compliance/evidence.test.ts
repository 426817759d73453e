import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { canonicalJson } from '../../src/domain/canonical-json.js';
import { entryHash, verifyLedger, type LedgerRow } from '../../src/compliance/ledger.js';
import { readLedgerRows } from '../../src/compliance/evidence.js';
import { verifyAgainstCheckpoints } from '../../src/compliance/audit.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/compliance/merkle.js';
import {
  checkCheckpoint,
  parsePublicKey,
  signerFromText,
  type LedgerPublicKey,
  type SignedCheckpoint,
} from '../../src/compliance/signing.js';
import { readWitnessDirectory } from '../../src/compliance/witness.js';
import { openStore, type Store } from '../../src/store/db.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * The tamper suite of issue 16: against checkpoints published to a witness directory, tail truncation with a
 * rewritten head, re-chaining after an edit, edits to the fact tables and forged checkpoints are all found, and an
 * intact history raises no alarm. Each attack runs on its own copy of the database.
 */
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const hex = (text: string) => Buffer.from(text, 'hex');

describe('ledger evidence: checkpoints, proofs and the tamper suite', () => {
  const clock = new ManualClock(T0);
  const witnessDir = mkdtempSync(join(tmpdir(), 'lg-witness-'));
  let t: TestApp;
  let n = 0;
  let key: LedgerPublicKey;
  let dbFile = '';
  let decisionId = '';
  const checkpoints: SignedCheckpoint[] = [];
  const post = (url: string, payload?: unknown) =>
    t.server.inject({
      method: 'POST',
      url,
      headers: adminHeaders(`ev-${++n}`),
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });

  async function apply(seq: number): Promise<{ lineId?: string; decisionId: string }> {
    const res = await post('/v1/applications', {
      applicant: { name: '韩梅梅', nationalId: residentId('19850101', seq), phone: '13900002222' },
      attributes: STRONG_APPLICANT,
    });
    expect(res.statusCode).toBe(201);
    return { lineId: res.json().line?.id, decisionId: res.json().decisionId };
  }

  beforeAll(async () => {
    t = await startTestApp({ LINEGUARD_WITNESS_DIR: witnessDir }, { clock, random: seededRandom(16) });
    dbFile = t.app.config.sqlitePath;
    key = t.app.evidence.publicKey;
    const first = await apply(101);
    decisionId = first.decisionId;
    const draw = await post(`/v1/lines/${first.lineId}/draws`, {
      amountMinor: 300_000,
      currency: 'CNY',
      termMonths: 6,
      method: 'EQUAL_INSTALLMENT',
    });
    expect(draw.statusCode).toBe(201);
    clock.advance(3_600_000);
    const cp1 = await post('/v1/ledger/checkpoints');
    expect(cp1.statusCode).toBe(201);
    checkpoints.push(cp1.json());
    const repay = await post(`/v1/loans/${draw.json().loan.id}/repayments`, {
      amountMinor: 60_000,
      currency: 'CNY',
    });
    expect(repay.statusCode).toBe(201);
    await post(`/v1/lines/${first.lineId}/actions`, {
      type: 'LIMIT_DECREASE',
      reasons: ['R_INQUIRY_VELOCITY'],
      limitMinor: 400_000,
    });
    await apply(102);
    await apply(103);
    clock.advance(3_600_000);
    checkpoints.push((await post('/v1/ledger/checkpoints')).json());
  });
  afterAll(async () => t?.close());

  it('publishes every checkpoint to the witness directory, validly signed by the key it prints', async () => {
    const listed = (await get('/v1/ledger/checkpoints')).json().checkpoints as SignedCheckpoint[];
    expect(listed.map((c) => c.treeSize)).toEqual(checkpoints.map((c) => c.treeSize));
    expect(checkpoints[1]!.treeSize).toBeGreaterThan(checkpoints[0]!.treeSize);
    const printed = parsePublicKey((await get('/v1/ledger/key')).json().ed25519 as string);
    expect(printed?.keyId).toBe(key.keyId);
    const files = readWitnessDirectory(witnessDir);
    expect(files).toHaveLength(2);
    for (const file of files)
      expect(checkCheckpoint(file.content.ok && file.content.value, printed!)).toEqual({ ok: true });
    // Nothing new: asking again returns the same checkpoint rather than a second one of the same size.
    expect((await post('/v1/ledger/checkpoints')).json()).toEqual(checkpoints[1]);
  });

  it('gives an inclusion proof for every entry that verifies against its signed checkpoint', async () => {
    const size = checkpoints[1]!.treeSize;
    for (let seq = 1; seq <= size; seq++) {
      const res = await get(`/v1/ledger/entries/${seq}/proof?treeSize=${size}`);
      expect(res.statusCode).toBe(200);
      const proof = res.json();
      expect(leafHash(proof.leaf).toString('hex')).toBe(proof.leafHash);
      const ok = verifyInclusion(
        hex(proof.leafHash),
        proof.leafIndex,
        proof.treeSize,
        proof.path.map(hex),
        hex(proof.checkpoint.rootHash),
      );
      expect(ok).toBe(true);
      expect(checkCheckpoint(proof.checkpoint, key)).toEqual({ ok: true });
    }
    // Without treeSize: the latest checkpoint covering the entry.
    expect((await get('/v1/ledger/entries/1/proof')).json().treeSize).toBe(size);
  });

  it('proves the second checkpoint extends the first', async () => {
    const [a, b] = checkpoints as [SignedCheckpoint, SignedCheckpoint];
    const res = await get(`/v1/ledger/consistency?from=${a.treeSize}&to=${b.treeSize}`);
    expect(res.statusCode).toBe(200);
    const ok = verifyConsistency(
      { from: a.treeSize, to: b.treeSize },
      (res.json().proof as string[]).map(hex),
      { from: hex(a.rootHash), to: hex(b.rootHash) },
    );
    expect(ok).toBe(true);
  });

  it("gives a decision's proof to an auditor: the ledger entry carries the decision's outcome", async () => {
    const res = await get(`/v1/decisions/${decisionId}/proof`);
    expect(res.statusCode).toBe(200);
    const proof = res.json();
    expect(proof.entry.kind).toBe('decision');
    expect(JSON.parse(proof.entry.payload).outcome).toBe('APPROVE');
    expect(JSON.parse(proof.leaf).entryId).toBe(decisionId);
    expect(
      verifyInclusion(
        hex(proof.leafHash),
        proof.leafIndex,
        proof.treeSize,
        proof.path.map(hex),
        hex(proof.checkpoint.rootHash),
      ),
    ).toBe(true);
  });

  it('the standalone offline verifier accepts the proof and rejects a doctored one', async () => {
    const proof = (await get(`/v1/decisions/${decisionId}/proof`)).json();
    const work = mkdtempSync(join(tmpdir(), 'lg-proof-'));
    const script = join(import.meta.dirname, '..', '..', 'bin', 'verify-ledger-proof.mjs');
    const run = (doc: unknown, keyText = key.rawBase64) => {
      const file = join(work, `p-${++n}.json`);
      writeFileSync(file, JSON.stringify(doc));
      return spawnSync(process.execPath, [script, file, keyText], { encoding: 'utf8' });
    };
    const good = run(proof);
    expect(good.stdout).toContain('VERIFIED');
    expect(good.status).toBe(0);
    const payload = JSON.parse(proof.entry.payload) as Record<string, unknown>;
    const doctored = canonicalJson({ ...payload, outcome: 'DECLINE' });
    const leaf = JSON.parse(proof.leaf) as Record<string, unknown>;
    const forgedLeaf = canonicalJson({ ...leaf, payload: doctored });
    expect(run({ ...proof, entry: { ...proof.entry, payload: doctored } }).status).toBe(3);
    expect(
      run({
        ...proof,
        entry: { ...proof.entry, payload: doctored },
        leaf: forgedLeaf,
        leafHash: leafHash(forgedLeaf).toString('hex'),
      }).status,
    ).toBe(3);
    expect(
      run({ ...proof, checkpoint: { ...proof.checkpoint, issuedAt: proof.checkpoint.issuedAt + 1 } }).status,
    ).toBe(3);
    const other = generateKeyPairSync('ed25519')
      .publicKey.export({ format: 'der', type: 'spki' })
      .subarray(12);
    expect(run(proof, other.toString('base64')).status).toBe(3);
    expect(run(proof, 'not-a-key').status).toBe(2);
  });

  it('answers 404 for an unknown entry, decision or checkpoint and 400 for hostile input', async () => {
    expect((await get('/v1/ledger/entries/999999/proof')).statusCode).toBe(404);
    expect((await get('/v1/decisions/0190a0a0-0000-7000-8000-000000000000/proof')).statusCode).toBe(404);
    expect((await get('/v1/ledger/consistency?from=1&to=3')).statusCode).toBe(404);
    expect((await get('/v1/ledger/entries/0/proof')).statusCode).toBe(400);
    expect((await get('/v1/ledger/entries/1e309/proof')).statusCode).toBe(400);
    expect((await get('/v1/ledger/consistency?from=5&to=2')).statusCode).toBe(400);
    expect((await get(`/v1/ledger/entries/1/proof?treeSize=999999`)).statusCode).toBe(404);
    const noAuth = await t.server.inject({ method: 'GET', url: '/v1/ledger/checkpoints' });
    expect(noAuth.statusCode).toBe(401);
  });

  describe('against the published checkpoints', () => {
    let dir = '';
    beforeAll(async () => {
      await t.close();
      dir = mkdtempSync(join(tmpdir(), 'lg-tamper-'));
    });

    /** A private copy of the database to attack. */
    let copies = 0;
    async function copy(): Promise<Store> {
      const target = join(dir, `copy-${++copies}.db`);
      copyFileSync(dbFile, target);
      for (const suffix of ['-wal', '-shm'])
        if (existsSync(dbFile + suffix)) copyFileSync(dbFile + suffix, target + suffix);
      return openStore({ sqlitePath: target });
    }
    const verify = (store: Store, witness = witnessDir) =>
      verifyAgainstCheckpoints(store.db, {
        files: readWitnessDirectory(witness),
        trustedKey: key,
        facts: true,
      });

    /** Re-chains every entry from `fromSeq` on and rewrites the head, as a tamperer who knows the format would. */
    async function rechain(store: Store, fromSeq: number): Promise<void> {
      const rows = await readLedgerRows(store.db);
      let prev = fromSeq === 1 ? '0'.repeat(64) : (rows[fromSeq - 2] as LedgerRow).hash;
      for (const row of rows.slice(fromSeq - 1)) {
        const hash = entryHash(prev, row);
        await store.db
          .updateTable('ledger_entries')
          .set({ prev_hash: prev, hash })
          .where('seq', '=', row.seq)
          .execute();
        prev = hash;
      }
      const last = rows[rows.length - 1] as LedgerRow;
      await store.db
        .updateTable('ledger_head')
        .set({ seq: last.seq, hash: prev })
        .where('id', '=', 1)
        .execute();
    }

    it('an intact history verifies with no alarm', async () => {
      const store = await copy();
      try {
        const result = await verify(store);
        expect(result.checkpoints.rejected).toEqual([]);
        expect(result.checkpoints.contradicted).toEqual([]);
        expect(result.facts?.mismatches).toEqual([]);
        expect(result.facts?.checked.loans).toBe(1);
        expect(result.checkpoints.matched).toBe(2);
        expect(result.ok).toBe(true);
      } finally {
        await store.close();
      }
    });

    it('finds the tail truncated with a rewritten head, which the stored head alone does not', async () => {
      const store = await copy();
      try {
        const rows = await readLedgerRows(store.db);
        const keep = rows.length - 3;
        await store.db.deleteFrom('ledger_entries').where('seq', '>', keep).execute();
        const last = rows[keep - 1] as LedgerRow;
        await store.db
          .updateTable('ledger_head')
          .set({ seq: last.seq, hash: last.hash })
          .where('id', '=', 1)
          .execute();
        expect((await verifyLedger(store.db)).ok).toBe(true);
        const result = await verify(store);
        expect(result.ok).toBe(false);
        expect(result.checkpoints.contradicted.map((f) => f.problem)).toEqual(['truncated']);
        expect(result.checkpoints.matched).toBe(1);
      } finally {
        await store.close();
      }
    });

    it('finds a truncated tail regrown past the checkpoint with other entries', async () => {
      const store = await copy();
      try {
        const rows = await readLedgerRows(store.db);
        const keep = rows.length - 2;
        await store.db.deleteFrom('ledger_entries').where('seq', '>', keep).execute();
        let prev = (rows[keep - 1] as LedgerRow).hash;
        for (let seq = keep + 1; seq <= rows.length + 2; seq++) {
          const base = {
            seq,
            entry_id: `forged-${seq}`,
            kind: 'note',
            subject_id: 'x',
            payload: canonicalJson({ seq }),
            recorded_at: T0,
          };
          const hash = entryHash(prev, base);
          await store.db
            .insertInto('ledger_entries')
            .values({ ...base, prev_hash: prev, hash, chain: 1, chain_seq: seq })
            .execute();
          prev = hash;
        }
        await store.db
          .updateTable('ledger_head')
          .set({ seq: rows.length + 2, hash: prev })
          .where('id', '=', 1)
          .execute();
        expect((await verifyLedger(store.db)).ok).toBe(true);
        const result = await verify(store);
        expect(result.checkpoints.contradicted.map((f) => f.problem)).toEqual(['rewritten']);
        expect(result.ok).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('finds an edited entry re-chained to pass the hash check', async () => {
      const store = await copy();
      try {
        const rows = await readLedgerRows(store.db);
        const target = rows.find((r) => r.kind === 'decision') as LedgerRow;
        const payload = JSON.parse(target.payload) as Record<string, unknown>;
        await store.db
          .updateTable('ledger_entries')
          .set({ payload: canonicalJson({ ...payload, outcome: 'DECLINE' }) })
          .where('seq', '=', target.seq)
          .execute();
        expect((await verifyLedger(store.db)).ok).toBe(false);
        await rechain(store, target.seq);
        expect((await verifyLedger(store.db)).ok).toBe(true);
        const result = await verify(store);
        expect(result.checkpoints.contradicted.map((f) => f.problem)).toEqual(['rewritten', 'rewritten']);
        // The fact row still says APPROVE while the (rewritten) ledger says DECLINE: that is reported too.
        expect(result.facts?.mismatches.map((m) => [m.table, m.field])).toContainEqual([
          'decisions',
          'outcome',
        ]);
        expect(result.ok).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('finds edits to the fact tables the API serves, with the chain and checkpoints intact', async () => {
      const store = await copy();
      try {
        await store.db
          .updateTable('decisions')
          .set({ outcome: 'DECLINE' })
          .where('id', '=', decisionId)
          .execute();
        await store.db
          .updateTable('credit_lines')
          .set({ limit_minor: 99_999_999 })
          .where('status', '=', 'ACTIVE')
          .execute();
        await store.db.updateTable('loans').set({ outstanding_principal_minor: 1 }).execute();
        // More room to draw than the ledger allows: the edit a fraudster inside would make.
        await store.db
          .updateTable('credit_lines')
          .set({ available_minor: 88_888_888 })
          .where('status', '=', 'ACTIVE')
          .execute();
        const result = await verify(store);
        expect(result.chain.ok).toBe(true);
        expect(result.checkpoints.contradicted).toEqual([]);
        const found = result.facts?.mismatches.map((m) => `${m.table}.${m.field}`) ?? [];
        expect(found).toContain('decisions.outcome');
        expect(found).toContain('credit_lines.limit_minor');
        expect(found).toContain('loans.outstanding_principal_minor');
        expect(found).toContain('credit_lines.available_minor');
        expect(result.ok).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('finds a decision row deleted from the table', async () => {
      const store = await copy();
      try {
        await store.db.deleteFrom('decisions').where('id', '=', decisionId).execute();
        const result = await verify(store);
        expect(result.facts?.mismatches).toEqual([
          { table: 'decisions', id: decisionId, field: '(row)', row: 'missing', ledger: 'present' },
        ]);
      } finally {
        await store.close();
      }
    });

    it('reports forged, mis-signed and unreadable checkpoints and never accepts them', async () => {
      const store = await copy();
      const forgedDir = mkdtempSync(join(tmpdir(), 'lg-forged-'));
      try {
        for (const name of readdirSync(witnessDir))
          copyFileSync(join(witnessDir, name), join(forgedDir, name));
        const real = checkpoints[1] as SignedCheckpoint;
        // 1. The root changed, the signature kept: does not verify.
        writeFileSync(
          join(forgedDir, 'z1.json'),
          JSON.stringify({ ...real, rootHash: 'ab'.repeat(32), treeSize: real.treeSize + 5 }),
        );
        // 2. A tamperer's own key, claiming the trusted key's id.
        const { privateKey } = generateKeyPairSync('ed25519');
        const mallory = signerFromText(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
        const signed = mallory.sign({
          origin: real.origin,
          treeSize: 3,
          rootHash: 'cd'.repeat(32),
          issuedAt: T0,
        });
        writeFileSync(join(forgedDir, 'z2.json'), JSON.stringify({ ...signed, keyId: real.keyId }));
        // 3. Honestly labelled with the other key.
        writeFileSync(join(forgedDir, 'z3.json'), JSON.stringify(signed));
        // 4. Not JSON, and JSON that is not a checkpoint.
        writeFileSync(join(forgedDir, 'z4.json'), '{not json');
        writeFileSync(join(forgedDir, 'z5.json'), JSON.stringify({ treeSize: 'all' }));
        const result = await verify(store, forgedDir);
        expect(result.checkpoints.rejected.map((f) => [f.file, f.problem])).toEqual([
          ['z1.json', 'bad signature'],
          ['z2.json', 'bad signature'],
          ['z3.json', 'unknown key'],
          ['z4.json', 'malformed'],
          ['z5.json', 'malformed'],
        ]);
        // The genuine ones still match; the forged ones were not taken as evidence of truncation or rewriting.
        expect(result.checkpoints.matched).toBe(2);
        expect(result.checkpoints.contradicted).toEqual([]);
        expect(result.ok).toBe(false);
        expect(JSON.parse(readFileSync(join(forgedDir, 'z3.json'), 'utf8')).keyId).not.toBe(key.keyId);
      } finally {
        await store.close();
      }
    });
  });
});
