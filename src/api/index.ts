/** The API's public face for the app that wires it (route groups are added here as they move behind it). */
export { modelRoutes, type ModelRouteDeps } from './routes/models.js';
export { disputeRoutes, type DisputeRoutesDeps } from './routes/disputes.js';

export {
  createApiKey,
  createKeyVerifier,
  createUser,
  createInstallationKey,
  createUserKey,
  ensureApiKey,
  revokeApiKey,
} from './api-keys.js';
export { FOUR_EYES_ROLES } from './types.js';
export { caseRoutes } from './routes/cases.js';
export { consentRoutes } from './routes/consent.js';
export { consoleRoutes } from './routes/console.js';
export { coreRoutes } from './routes/core.js';
export { ledgerRoutes } from './routes/ledger.js';
export { listingRoutes } from './routes/listings.js';
export { meRoutes } from './routes/me.js';
export { monitorRoutes } from './routes/monitor.js';
export { partnerRoutes } from './routes/partners.js';
export { portfolioRoutes } from './routes/portfolio.js';
export { productRoutes } from './routes/products.js';
export { quoteRoutes } from './routes/quotes.js';
export { parseSimulationBound, strategyRoutes } from './routes/strategies.js';
export { userRoutes } from './routes/users.js';
export { buildServer, createMetricsRegistry, createMetricsServer } from './server.js';
export { resealIdempotencyRecords } from './idempotency.js';
