import type { Migration, MigrationProvider } from 'kysely';
import { platformMigrations } from './platform.js';
import { coreMigrations } from './core.js';
import { engineMigrations } from './engine.js';
import { scoringMigrations } from './scoring.js';
import { monitorMigrations } from './monitor.js';
import { casesMigrations } from './cases.js';
import { complianceMigrations } from './compliance.js';
import { ledgerMigrations } from './ledger.js';

/**
 * Every module owns one migration file and a range of names, so names sort in a stable order:
 * platform 0xx, core 1xx, engine 2xx, scoring 3xx, monitor 4xx, cases 5xx.
 */
export const allMigrations: Record<string, Migration> = {
  ...platformMigrations,
  ...coreMigrations,
  ...engineMigrations,
  ...scoringMigrations,
  ...monitorMigrations,
  ...casesMigrations,
  ...complianceMigrations,
  ...ledgerMigrations,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => allMigrations,
};
