/**
 * src/store's public face: the adapters src/app wires into the modules' ports. (Other folders' adapters are added
 * here as their SQL moves into src/store.)
 */
export { openStore, type Store, type StoreKind } from './db.js';
export { alertStore } from './cases-alerts.js';
export {
  monitorActionStore,
  monitorIntakeStore,
  eventToRow,
  type AlertFollowUp,
  type AlertRow,
  type EventRow,
} from './monitor.js';
export { monitorListStore } from './monitor-lists.js';
