/** Tables owned by src/monitor (see schema.ts for column conventions). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MonitorTables {}
