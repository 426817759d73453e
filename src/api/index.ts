/** The API's public face for the app that wires it (route groups are added here as they move behind it). */
export { modelRoutes, type ModelRouteDeps } from './routes/models.js';
export { disputeRoutes, type DisputeRoutesDeps } from './routes/disputes.js';
