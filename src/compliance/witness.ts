import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../domain/index.js';
import type { SignedCheckpoint } from './signing.js';

/**
 * A witness keeps signed checkpoints OUTSIDE the database (RFC 9162 §8.2 "gossip"; the role C2SP calls a witness),
 * so rewriting the database cannot rewrite what was already published. The file-directory witness writes one file
 * per checkpoint; point LINEGUARD_WITNESS_DIR at storage the database's operators cannot rewrite (another host, a
 * WORM bucket mount, a partner's SFTP drop) — or let a regulator poll GET /v1/ledger/checkpoints and keep copies.
 */
export interface CheckpointWitness {
  /** How deliveries to it are recorded (ledger_witness_deliveries.witness). */
  readonly name: string;
  /** Resolves once the witness holds the checkpoint (with how many attempts it took); rejects when it does not. */
  publish(checkpoint: SignedCheckpoint): Promise<{ readonly attempts: number } | void>;
}

/** File names sort by tree size, so a listing reads in order. */
export function checkpointFileName(cp: SignedCheckpoint): string {
  return `checkpoint-${String(cp.treeSize).padStart(15, '0')}-${cp.issuedAt}.json`;
}

export function directoryWitness(dir: string): CheckpointWitness {
  return {
    name: `dir:${dir}`,
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

/** A witness that did not take a checkpoint after every attempt; the checkpoint stays pending and is offered again. */
export class WitnessDeliveryError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export interface HttpWitnessOptions {
  /** Attempts per delivery, the first included. */
  readonly attemptsMax?: number;
  /** Wait before retry i (the last value repeats). */
  readonly backoffMs?: readonly number[];
  readonly timeoutMs?: number;
  /** Injected for tests; defaults to a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly fetch?: typeof fetch;
}

/**
 * An HTTP witness: each signed checkpoint is POSTed as JSON to `url` (a regulator's or partner's collector). 2xx — or
 * 409, "already have it" — is delivered. A 5xx, 408, 429 or a network failure is retried with backoff; any other 4xx
 * is the witness refusing the checkpoint, not retried. Either way the caller records the outcome, and a checkpoint
 * that was not delivered is offered again with the next one (createLedgerEvidence).
 */
export function httpWitness(url: string, options: HttpWitnessOptions = {}): CheckpointWitness {
  const attemptsMax = options.attemptsMax ?? 3;
  const backoffMs = options.backoffMs ?? [250, 1_000];
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const post = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    name: witnessName(url),
    async publish(checkpoint) {
      let lastError = '';
      for (let attempt = 1; attempt <= attemptsMax; attempt++) {
        if (attempt > 1) await sleep(backoffMs[Math.min(attempt - 2, backoffMs.length - 1)] ?? 0);
        try {
          const response = await post(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: canonicalJson(checkpoint),
            signal: AbortSignal.timeout(timeoutMs),
          });
          await response.arrayBuffer().catch(() => undefined);
          if (response.ok || response.status === 409) return { attempts: attempt };
          lastError = `HTTP ${response.status}`;
          if (!RETRYABLE_STATUS.has(response.status) && response.status < 500)
            throw new WitnessDeliveryError(
              `${witnessName(url)} refused the checkpoint: ${lastError}`,
              attempt,
            );
        } catch (error) {
          if (error instanceof WitnessDeliveryError) throw error;
          lastError = error instanceof Error ? error.message : String(error);
        }
      }
      throw new WitnessDeliveryError(
        `${witnessName(url)} did not take the checkpoint after ${attemptsMax} attempts: ${lastError}`,
        attemptsMax,
      );
    },
  };
}

const RETRYABLE_STATUS = new Set([408, 429]);

/** The URL without credentials or query: what delivery records and messages show. */
function witnessName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'http-witness';
  }
}

/**
 * Checkpoints held by an HTTP witness, for `ledger verify --against URL`: GET url (then url?afterSize=N while each
 * page moves forward) answering `{ "checkpoints": [...] }` (as GET /v1/ledger/checkpoints does) or a bare array.
 * Each element is returned as found; the verifier judges it (signature, origin), so a hostile witness can only cause
 * a rejection, never an acceptance.
 */
export async function readWitnessUrl(
  url: string,
  options: {
    readonly fetch?: typeof fetch;
    readonly checkpointsMax?: number;
    readonly timeoutMs?: number;
  } = {},
): Promise<WitnessFile[]> {
  const get = options.fetch ?? fetch;
  const checkpointsMax = options.checkpointsMax ?? 100_000;
  const files: WitnessFile[] = [];
  let afterSize = -1;
  while (files.length < checkpointsMax) {
    const pageUrl = new URL(url);
    if (afterSize >= 0) pageUrl.searchParams.set('afterSize', String(afterSize));
    const response = await get(pageUrl, { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    if (!response.ok) throw new Error(`${witnessName(url)} answered HTTP ${response.status}`);
    const body: unknown = await response.json();
    const page = Array.isArray(body)
      ? (body as unknown[])
      : typeof body === 'object' &&
          body !== null &&
          Array.isArray((body as { checkpoints?: unknown }).checkpoints)
        ? (body as { checkpoints: unknown[] }).checkpoints
        : null;
    if (!page) throw new Error(`${witnessName(url)} did not answer a list of checkpoints`);
    let largest = afterSize;
    for (const value of page) {
      const size = (value as { treeSize?: unknown } | null)?.treeSize;
      const label = typeof size === 'number' ? `#${size}` : `#${files.length + 1}`;
      // A witness that ignores afterSize sends the same page again: keep only what moves forward.
      if (typeof size === 'number' ? size <= afterSize : afterSize >= 0) continue;
      files.push({ file: `${witnessName(url)}${label}`, content: { ok: true, value } });
      if (typeof size === 'number') largest = Math.max(largest, size);
    }
    if (largest <= afterSize || page.length === 0) break;
    afterSize = largest;
  }
  return files.slice(0, checkpointsMax);
}
