import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { appendToLedger } from '../../src/compliance/ledger.js';
import { createLedgerEvidence, type LedgerEvidence } from '../../src/compliance/evidence.js';
import { verifyAgainstCheckpoints } from '../../src/compliance/audit.js';
import { checkCheckpoint, signerFromText, type SignedCheckpoint } from '../../src/compliance/signing.js';
import { httpWitness, readWitnessUrl } from '../../src/compliance/witness.js';
import { openStore, type Store } from '../../src/store/db.js';
import { createLedgerLogStore } from '../../src/store/ledger.js';
import { verifyAgainst } from '../../src/cli/commands/ledger.js';

/**
 * Issue 16: checkpoints published to a witness outside the database over HTTP, with retries and a recorded delivery
 * state, and `ledger verify --against URL` reading them back — against a real HTTP server on a local port.
 */
const T0 = Date.UTC(2026, 11, 2, 9, 0, 0);
const signer = signerFromText('22'.repeat(32));

/** A small collector as a regulator might run: keeps what is POSTed, serves it back, can be told to fail. */
function startWitnessServer() {
  const held = new Map<number, unknown>();
  const control = { failNext: 0, failStatus: 503, posts: 0 };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://witness');
    if (request.method === 'GET') {
      const after = Number(url.searchParams.get('afterSize') ?? -1);
      const checkpoints = [...held.entries()]
        .filter(([size]) => size > after)
        .sort((a, b) => a[0] - b[0])
        .map(([, value]) => value);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ checkpoints }));
      return;
    }
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      control.posts += 1;
      if (control.failNext > 0) {
        control.failNext -= 1;
        response.writeHead(control.failStatus).end();
        return;
      }
      const value = JSON.parse(body) as { treeSize: number };
      const status = held.has(value.treeSize) ? 409 : 201;
      held.set(value.treeSize, value);
      response.writeHead(status).end();
    });
  });
  return { server, held, control };
}

describe('HTTP witness', () => {
  const witness = startWitnessServer();
  let url = '';
  let store: Store;
  let evidence: LedgerEvidence;
  const sleeps: number[] = [];
  let n = 0;
  const append = (count: number) =>
    store.transaction((tx) =>
      appendToLedger(
        tx,
        Array.from({ length: count }, () => ({
          entryId: `w-${++n}`,
          kind: 'decision',
          subjectId: `line-${n % 3}`,
          payload: { n },
          recordedAt: T0 + n,
        })),
      ),
    );

  beforeAll(async () => {
    await new Promise<void>((resolve) => witness.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(witness.server.address() as AddressInfo).port}/checkpoints`;
    store = await openStore({ sqlitePath: ':memory:' });
    evidence = createLedgerEvidence({
      log: createLedgerLogStore(store),
      clock: new ManualClock(T0),
      signer,
      // Backoff is recorded, not waited: the test never depends on time.
      witnesses: [httpWitness(url, { sleep: async (ms) => void sleeps.push(ms) })],
    });
  });
  afterAll(async () => {
    await store?.close();
    await new Promise((resolve) => witness.server.close(resolve));
  });

  it('delivers a checkpoint after transient failures, retrying with backoff, and records it delivered', async () => {
    await append(3);
    witness.control.failNext = 2;
    const cp = await evidence.checkpoint();
    expect(witness.held.get(cp.treeSize)).toEqual(JSON.parse(JSON.stringify(cp)));
    expect(sleeps).toEqual([250, 1_000]);
    expect(await evidence.deliveries()).toEqual([
      { treeSize: cp.treeSize, witness: url, state: 'delivered', attempts: 3, updatedAt: T0 },
    ]);
    // Nothing new since: the same checkpoint, and the witness that holds it is not asked again.
    const posts = witness.control.posts;
    expect(await evidence.checkpoint()).toEqual(cp);
    expect(witness.control.posts).toBe(posts);
  });

  it('keeps a checkpoint the witness could not take as pending, and delivers it with the next one', async () => {
    await append(2);
    witness.control.failNext = 3;
    const missed = await evidence.checkpoint();
    expect(witness.held.has(missed.treeSize)).toBe(false);
    expect((await evidence.deliveries({ state: 'pending' }))[0]).toMatchObject({
      treeSize: missed.treeSize,
      state: 'pending',
      attempts: 3,
      lastError: expect.stringContaining('HTTP 503'),
    });
    await append(1);
    const next = await evidence.checkpoint();
    expect(witness.held.has(next.treeSize)).toBe(true);
    expect(witness.held.has(missed.treeSize)).toBe(true);
    expect(await evidence.deliveries({ state: 'pending' })).toEqual([]);
    expect((await evidence.deliveries()).find((d) => d.treeSize === missed.treeSize)?.attempts).toBe(4);
  });

  it('does not retry a checkpoint the witness refuses (4xx), and says so', async () => {
    await append(1);
    witness.control.failNext = 1;
    witness.control.failStatus = 400;
    const posts = witness.control.posts;
    const refused = await evidence.checkpoint();
    witness.control.failStatus = 503;
    expect(witness.control.posts - posts).toBe(1);
    expect((await evidence.deliveries({ state: 'pending' }))[0]).toMatchObject({
      treeSize: refused.treeSize,
      attempts: 1,
    });
    expect((await evidence.deliveries({ state: 'pending' }))[0]?.lastError).toContain('refused');
    // Offered again with the next checkpoint (the witness may have been fixed meanwhile).
    await append(1);
    await evidence.checkpoint();
    expect(await evidence.deliveries({ state: 'pending' })).toEqual([]);
  });

  it('verify --against URL reads the witness back and finds the ledger matches every checkpoint', async () => {
    const files = await readWitnessUrl(url);
    expect(files).toHaveLength(witness.held.size);
    for (const f of files)
      expect(checkCheckpoint(f.content.ok && f.content.value, signer.publicKey)).toEqual({ ok: true });
    const result = await verifyAgainstCheckpoints(store.db, {
      files,
      trustedKey: signer.publicKey,
      facts: false,
    });
    expect(result.checkpoints).toMatchObject({ matched: witness.held.size, rejected: [], contradicted: [] });
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const exit = await verifyAgainst(store.db, async () => signer.publicKey, {
        against: url,
        facts: false,
        json: true,
      });
      expect(exit).toBe(0);
    } finally {
      write.mockRestore();
    }
  });

  it('a checkpoint forged at the witness is rejected, and a rewritten ledger is caught against it', async () => {
    const latest = (await evidence.listCheckpoints({ limit: 1000 })).at(-1) as SignedCheckpoint;
    witness.held.set(latest.treeSize + 50, { ...latest, treeSize: latest.treeSize + 50 });
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const exit = await verifyAgainst(store.db, async () => signer.publicKey, {
        against: url,
        facts: false,
        json: true,
      });
      expect(exit).toBe(3);
    } finally {
      write.mockRestore();
    }
    const result = await verifyAgainstCheckpoints(store.db, {
      files: await readWitnessUrl(url),
      trustedKey: signer.publicKey,
      facts: false,
    });
    expect(result.checkpoints.rejected.map((f) => f.problem)).toEqual(['bad signature']);
    witness.held.delete(latest.treeSize + 50);
    // The database rewritten under the witness: the first entry's payload changed (the chain is not even re-linked).
    await store.db.updateTable('ledger_entries').set({ payload: '{"n":999}' }).where('seq', '=', 1).execute();
    const tampered = await verifyAgainstCheckpoints(store.db, {
      files: await readWitnessUrl(url),
      trustedKey: signer.publicKey,
      facts: false,
    });
    expect(tampered.checkpoints.contradicted.length).toBe(witness.held.size);
    expect(tampered.ok).toBe(false);
  });

  it('an unreachable witness URL is a clear error, not a pass', async () => {
    await expect(
      verifyAgainst(store.db, async () => signer.publicKey, {
        against: 'http://127.0.0.1:1/none',
        facts: false,
      }),
    ).rejects.toMatchObject({ code: 'LG_VALIDATION' });
  });
});
