/**
 * src/store's public face (DESIGN.md: another folder is entered through its index.ts). Older wiring in src/app still
 * imports store files directly (listed in .dependency-cruiser-known-violations.json); new adapters are exported here.
 */
export { createLedgerLogStore } from './ledger.js';
