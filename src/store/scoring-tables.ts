/** Tables owned by src/scoring (see schema.ts for column conventions). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ScoringTables {}
