import type { Migration } from 'kysely';

/** Migrations of src/engine; names in its range keep the global order stable. */
export const engineMigrations: Record<string, Migration> = {};
