import { hash } from 'node:crypto';

/**
 * SHA-256 of bytes (a string counts as its UTF-8 bytes), as lowercase hex. One-shot (no Hash object per call): the
 * ledger, decisions, idempotency and event intake each hash on every request. sha256Hex(a + b) equals hashing a then
 * b incrementally.
 */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}
