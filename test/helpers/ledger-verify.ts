import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import {
  fieldCryptoFromMasterKey,
  type FieldCrypto,
  type SealedPairRow,
  type SealedRows,
} from '../../src/compliance/index.js';
import type { StoredPair } from '../../src/compliance/sealed-pair.js';
import { verifyAgainstCheckpoints } from '../../src/compliance/audit.js';
import { verifyAgainst } from '../../src/cli/commands/ledger.js';
import type { TestApp } from './app.js';

/**
 * What the suites that prove sealed rows against the ledger share: the installation's data keys, a ledger entry's
 * payload, `ledger verify`'s fact check in-process and as the CLI runs it, and the comparison of its findings.
 */

/** The data keys the app seals with (current and retired): what `ledger verify --key` would be given. */
export function appCrypto(t: TestApp): FieldCrypto {
  return fieldCryptoFromMasterKey(t.app.config.masterKey, t.app.config.retiredKeys);
}

/** A ledger entry's payload, by entry id. */
export async function ledgerPayload(t: TestApp, entryId: string): Promise<Record<string, unknown>> {
  const row = await t.app.store.db
    .selectFrom('ledger_entries')
    .select('payload')
    .where('entry_id', '=', entryId)
    .executeTakeFirstOrThrow();
  return JSON.parse(row.payload) as Record<string, unknown>;
}

/** The payload of a subject's entry of one kind (the one entry of that kind the subject has). */
export async function ledgerEntryOf(
  t: TestApp,
  subjectId: string,
  kind: string,
): Promise<Record<string, unknown>> {
  const row = await t.app.store.db
    .selectFrom('ledger_entries')
    .select('payload')
    .where('subject_id', '=', subjectId)
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();
  return JSON.parse(row.payload) as Record<string, unknown>;
}

/** The chain and the fact check against no checkpoint files, with `crypto` to open the sealed values (or without). */
export function verifyBook(t: TestApp, crypto?: FieldCrypto) {
  return verifyAgainstCheckpoints(t.app.store.db, {
    files: [],
    trustedKey: t.app.evidence.publicKey,
    facts: true,
    ...(crypto ? { crypto } : {}),
  });
}

/** `lineguard ledger verify --against DIR` as the CLI runs it (an empty witness): its exit code and what it printed. */
export async function verifyCommand(t: TestApp, crypto: FieldCrypto): Promise<{ exit: number; out: string }> {
  const witness = mkdtempSync(join(tmpdir(), 'lg-witness-'));
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    const exit = await verifyAgainst(t.app.store.db, async () => t.app.evidence.publicKey, {
      against: witness,
      crypto,
    });
    return { exit, out };
  } finally {
    write.mockRestore();
  }
}

/** Exactly these findings, in any order of rows (ids made in one millisecond need not sort as they were made). */
export function expectFindings(found: readonly unknown[] | undefined, expected: readonly unknown[]): void {
  expect(found).toHaveLength(expected.length);
  expect(found).toEqual(expect.arrayContaining([...expected]));
}

/** A row whose sealed pair a test replaces: its pair's rows (sealedPairRows), the row as read, and the new pair. */
export interface SealedRewrite {
  readonly rows: SealedRows<SealedPairRow>;
  readonly read: SealedPairRow;
  readonly sealed: StoredPair;
}

/**
 * Writes each row's new pair with the store's sealed-row writer (compare-and-set, as a re-seal does; each write must
 * take), and answers how to put every row back as it was read.
 */
export async function rewriteSealedRows(rewrites: readonly SealedRewrite[]): Promise<() => Promise<void>> {
  const write = async (rewrite: SealedRewrite, from: StoredPair, to: StoredPair) => {
    const { id } = rewrite.read;
    expect(await rewrite.rows.replace([{ read: { id, ...from }, sealed: { id, ...to } }])).toBe(1);
  };
  for (const rewrite of rewrites) await write(rewrite, rewrite.read, rewrite.sealed);
  return async () => {
    for (const rewrite of rewrites) await write(rewrite, rewrite.sealed, rewrite.read);
  };
}

/**
 * A book that verifies: the fact check holds with the data key (its facts matching `facts`) and without it (the sealed
 * values counted, nothing found), and the CLI exits 0, printing each of `says` and never `secret` (personal data
 * the book holds sealed).
 */
export async function expectCleanBook(
  t: TestApp,
  expected: {
    readonly facts: Record<string, unknown>;
    readonly says?: readonly string[];
    readonly secret: string;
  },
): Promise<void> {
  const crypto = appCrypto(t);
  const clean = await verifyBook(t, crypto);
  expect(clean.facts).toMatchObject({ ok: true, mismatches: [], unverifiable: [], ...expected.facts });
  expect(clean.ok).toBe(true);
  expect((await verifyBook(t)).facts).toMatchObject({ ok: true, mismatches: [] });
  const command = await verifyCommand(t, crypto);
  expect(command.exit, command.out).toBe(0);
  for (const text of expected.says ?? []) expect(command.out).toContain(text);
  expect(command.out).not.toContain(expected.secret);
}
