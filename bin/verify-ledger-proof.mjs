#!/usr/bin/env node
// Offline verifier for a LineGuard ledger proof (GET /v1/decisions/{id}/proof, GET /v1/ledger/entries/{seq}/proof,
// `lineguard ledger prove entry`). Needs only Node.js >= 18: no LineGuard code, no network, no database.
//
//   node verify-ledger-proof.mjs PROOF.json PUBLIC_KEY [WITNESSED_CHECKPOINT.json]
//
// PUBLIC_KEY is the Ed25519 key printed by `lineguard ledger key` (32 bytes, base64), obtained from the lender by a
// channel you trust. The steps are the ones in docs/ledger-proofs.md (RFC 9162 §2.1.1, §2.1.3.2; RFC 8032).
// Exit 0 when every check passes, 3 when any fails, 2 on unusable input.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (leaf) => sha256(Buffer.from([0]), Buffer.from(leaf, 'utf8'));
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

function rootFromPath(leaf, index, size, path) {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return null;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else r = nodeHash(r, p);
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

function publicKey(base64) {
  const raw = Buffer.from(base64.trim(), 'base64');
  if (raw.length !== 32) throw new Error('the public key must be 32 bytes, base64');
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
  return {
    key: createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    keyId: sha256(raw).toString('hex').slice(0, 16),
  };
}

function main(argv) {
  const [proofFile, keyArg, witnessedFile] = argv;
  if (!proofFile || !keyArg) {
    console.error('usage: verify-ledger-proof.mjs PROOF.json PUBLIC_KEY_BASE64 [WITNESSED_CHECKPOINT.json]');
    return 2;
  }
  let proof, key;
  try {
    proof = JSON.parse(readFileSync(proofFile, 'utf8'));
    key = publicKey(keyArg);
  } catch (error) {
    console.error(`unusable input: ${error.message}`);
    return 2;
  }
  const checks = [];
  const check = (ok, what) => checks.push([Boolean(ok), what]);
  const e = proof.entry ?? {};
  const cp = proof.checkpoint ?? {};
  let leaf = {};
  try {
    leaf = JSON.parse(proof.leaf);
  } catch {
    /* reported below */
  }
  // 1. The leaf is the entry: same fields as shown.
  check(
    leaf.seq === e.seq &&
      leaf.entryId === e.entryId &&
      leaf.kind === e.kind &&
      leaf.subjectId === e.subjectId &&
      leaf.payload === e.payload &&
      leaf.recordedAt === e.recordedAt,
    'the leaf carries exactly the entry shown',
  );
  // 2. The hash chain link: SHA-256(prevHash || leaf) is the entry's hash.
  check(
    sha256(Buffer.from(`${e.prevHash}${proof.leaf}`, 'utf8')).toString('hex') === e.hash,
    'the entry hash matches its content',
  );
  // 3. The Merkle leaf hash, and the audit path up to the root.
  const lh = leafHash(proof.leaf);
  check(lh.toString('hex') === proof.leafHash, 'leaf hash = SHA-256(0x00 || leaf)');
  const root = rootFromPath(
    lh,
    proof.leafIndex,
    proof.treeSize,
    (proof.path ?? []).map((h) => Buffer.from(h, 'hex')),
  );
  check(
    root && root.toString('hex') === cp.rootHash && cp.treeSize === proof.treeSize,
    'the audit path leads to the checkpoint root',
  );
  // 4. The checkpoint is signed by the key you trust.
  // Then one line per chain head (`chain <n> <length> <hash>`), on checkpoints of the partitioned ledger.
  const chainLines = Array.isArray(cp.chains)
    ? cp.chains.map((c) => `chain ${c.chain} ${c.length} ${c.hash}\n`).join('')
    : '';
  const body = `${cp.origin}\n${cp.treeSize}\n${cp.rootHash}\n${cp.issuedAt}\n${chainLines}`;
  let signed = false;
  try {
    signed =
      cp.keyId === key.keyId && verify(null, Buffer.from(body), key.key, Buffer.from(cp.signature, 'base64'));
  } catch {
    signed = false;
  }
  check(signed, `the checkpoint is signed by key ${key.keyId}`);
  // 5. Optional: the same checkpoint as one you obtained from a witness.
  if (witnessedFile) {
    const w = JSON.parse(readFileSync(witnessedFile, 'utf8'));
    check(
      w.treeSize === cp.treeSize && w.rootHash === cp.rootHash,
      'the checkpoint is the one the witness holds',
    );
  }
  for (const [ok, what] of checks) console.log(`[${ok ? 'PASS' : 'FAIL'}] ${what}`);
  const all = checks.every(([ok]) => ok);
  if (all) {
    let payload = e.payload;
    try {
      payload = JSON.parse(e.payload);
    } catch {
      /* shown as text */
    }
    console.log(
      `VERIFIED: ledger entry ${e.seq} (${e.kind}) is in the ${cp.treeSize}-entry ledger signed at ${new Date(cp.issuedAt).toISOString()}`,
    );
    console.log(JSON.stringify(payload, null, 2));
  } else console.log('NOT VERIFIED');
  return all ? 0 : 3;
}

process.exitCode = main(process.argv.slice(2));
