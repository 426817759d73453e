/** Tables owned by src/engine (see schema.ts for column conventions). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EngineTables {}
