import type { Migration } from 'kysely';

/** Migrations of src/scoring; names in its range keep the global order stable. */
export const scoringMigrations: Record<string, Migration> = {};
