import type { Migration } from 'kysely';

/** Migrations of src/monitor; names in its range keep the global order stable. */
export const monitorMigrations: Record<string, Migration> = {};
