import type { Migration } from 'kysely';

/** Migrations of src/core; names in its range keep the global order stable. */
export const coreMigrations: Record<string, Migration> = {};
