/** Tables owned by src/core (see schema.ts for column conventions). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CoreTables {}
