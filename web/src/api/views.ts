import type { paths } from './openapi';

/**
 * Names for the answers the dashboard reads, all derived from the generated client (web/src/api/openapi.d.ts, from
 * the server's /openapi.json): when a route's response schema changes, `npm run web:api` carries it here and the
 * type checker shows every page it touches. No shape is written by hand.
 */
type Json<
  Path extends keyof paths,
  Method extends 'get' | 'post' | 'put',
  Status extends number = 200,
> = paths[Path][Method] extends {
  responses: { [S in Status]: { content: { 'application/json': infer Body } } };
}
  ? Body
  : never;

export type LineView = Json<'/v1/lines/{id}', 'get'>;
export type LoanView = Json<'/v1/loans/{id}', 'get'>;
export type LineExplanation = Json<'/v1/me/lines/{id}/explanation', 'get'>;
export type AppealView = Json<'/v1/me/appeals/{id}', 'get'>;

export type StrategySummary = Json<'/v1/strategies', 'get'>['strategies'][number];
export type StrategyVersion = Json<'/v1/strategies/{id}/versions/{version}', 'get'>;
export type SimulationReport = Json<'/v1/strategies/{id}/simulate', 'post'>;
export type OverlayView = Json<'/v1/overlays', 'get'>['overlays'][number];
export type OverlayDeclaration = Json<'/v1/overlays', 'get'>['declarations'][number];
export type OverlayChange = Json<'/v1/overlays/history', 'get'>['changes'][number];

export type CaseView = Json<'/v1/cases', 'get'>['items'][number];
export type ReasonView = Json<'/v1/reasons', 'get'>['items'][number];
export type CaseDetail = Json<'/v1/cases/{id}', 'get'>;
export type PendingChange = Json<'/v1/changes/{id}', 'get'>;
