/**
 * The whole database as Kysely sees it: one table interface per aggregate, each declared beside its store.
 * Column conventions (portable between SQLite and PostgreSQL):
 * - ids are text (UUIDv7); instants are bigint epoch milliseconds; dates are text YYYY-MM-DD;
 * - money is bigint minor units; floats are 'double precision'; booleans are integer 0/1;
 * - structured values are text holding canonical JSON.
 */
import type { CoreTables } from './core-tables.js';
import type { EngineTables } from './engine-tables.js';
import type { ScoringTables } from './scoring-tables.js';
import type { MonitorTables } from './monitor-tables.js';
import type { PlatformTables } from './platform-tables.js';
import type { ApiKeyOwnerColumn, CasesTables } from './cases-tables.js';
import type { ComplianceTables } from './compliance-tables.js';

export type Database = PlatformTables &
  CoreTables &
  EngineTables &
  ScoringTables &
  MonitorTables &
  CasesTables & {
    api_keys: ApiKeyOwnerColumn;
  } & ComplianceTables;
