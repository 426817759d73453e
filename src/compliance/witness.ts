import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../domain/canonical-json.js';
import type { SignedCheckpoint } from './signing.js';

/**
 * A witness keeps signed checkpoints OUTSIDE the database (RFC 9162 §8.2 "gossip"; the role C2SP calls a witness),
 * so rewriting the database cannot rewrite what was already published. The file-directory witness writes one file
 * per checkpoint; point LINEGUARD_WITNESS_DIR at storage the database's operators cannot rewrite (another host, a
 * WORM bucket mount, a partner's SFTP drop) — or let a regulator poll GET /v1/ledger/checkpoints and keep copies.
 */
export interface CheckpointWitness {
  publish(checkpoint: SignedCheckpoint): Promise<void>;
}

/** File names sort by tree size, so a listing reads in order. */
export function checkpointFileName(cp: SignedCheckpoint): string {
  return `checkpoint-${String(cp.treeSize).padStart(15, '0')}-${cp.issuedAt}.json`;
}

export function directoryWitness(dir: string): CheckpointWitness {
  return {
    async publish(checkpoint) {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, checkpointFileName(checkpoint));
      // Append-only: a published checkpoint is never overwritten. Write then rename, so a reader never sees half.
      if (existsSync(file)) return;
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, `${canonicalJson(checkpoint)}\n`, { mode: 0o644 });
      renameSync(tmp, file);
    },
  };
}

export interface WitnessFile {
  readonly file: string;
  /** The parsed JSON, or the reason it could not be read. */
  readonly content:
    { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };
}

/** Every *.json file in a witness directory, in name order; unreadable ones are reported, not skipped silently. */
export function readWitnessDirectory(dir: string, filesMax = 100_000): WitnessFile[] {
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .slice(0, filesMax);
  return names.map((name) => {
    try {
      return { file: name, content: { ok: true, value: JSON.parse(readFileSync(join(dir, name), 'utf8')) } };
    } catch (error) {
      return {
        file: name,
        content: { ok: false, error: error instanceof Error ? error.message : String(error) },
      };
    }
  });
}
