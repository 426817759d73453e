import { Type } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import { SNAPSHOTS_LIST_MAX, monthlyReportCsv, type PortfolioService } from '../../compliance/index.js';
import { LgError } from '../../domain/index.js';
import { READERS, typed, type TypedApp } from '../types.js';

/** Portfolio snapshots, early warnings and the monthly report (read-only; `jobs daily` writes the snapshots). */
const tags = ['portfolio'];
const DATE = '^\\d{4}-\\d{2}-\\d{2}$';
const RangeQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date', pattern: DATE })),
    to: Type.Optional(Type.String({ format: 'date', pattern: DATE })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SNAPSHOTS_LIST_MAX })),
  },
  { additionalProperties: false },
);
const AsOfParams = Type.Object({ asOf: Type.String({ format: 'date', pattern: DATE }) });
const MonthQuery = Type.Object(
  {
    month: Type.String({ pattern: '^\\d{4}-\\d{2}$' }),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);

export function portfolioRoutes(deps: { portfolio: PortfolioService }): FastifyPluginAsync {
  const { portfolio } = deps;
  return async (instance) => {
    const app = typed(instance);
    snapshotRoutes(app, portfolio);
    earlyWarningRoutes(app, portfolio);
    monthlyReportRoute(app, portfolio);
  };
}

/** The snapshots in a range, the latest one, and one date's. */
function snapshotRoutes(app: TypedApp, portfolio: PortfolioService): void {
  app.get(
    '/v1/portfolio/snapshots',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Daily portfolio snapshots in a date range',
        querystring: RangeQuery,
        response: { 200: Type.Object({ snapshots: Type.Array(R.PortfolioSnapshot) }), ...R.READ_ERRORS },
      },
    },
    async (request) => ({ snapshots: await portfolio.list(request.query) }),
  );
  app.get(
    '/v1/portfolio/snapshots/latest',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'The latest portfolio snapshot',
        response: { 200: R.PortfolioSnapshot, ...R.ITEM_READ_ERRORS },
      },
    },
    async () => {
      const latest = await portfolio.latest();
      if (!latest) throw new LgError('LG_NOT_FOUND', 'no portfolio snapshot yet: run `lineguard jobs daily`');
      return latest;
    },
  );
  app.get(
    '/v1/portfolio/snapshots/:asOf',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'The snapshot of one date',
        params: AsOfParams,
        response: { 200: R.PortfolioSnapshot, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => portfolio.get(request.params.asOf),
  );
}

function earlyWarningRoutes(app: TypedApp, portfolio: PortfolioService): void {
  app.get(
    '/v1/portfolio/warnings',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Early-warning breaches with their figures and alert ids',
        querystring: RangeQuery,
        response: { 200: Type.Object({ warnings: Type.Array(R.EarlyWarning) }), ...R.READ_ERRORS },
      },
    },
    async (request) => ({ warnings: await portfolio.warnings(request.query) }),
  );
}

function monthlyReportRoute(app: TypedApp, portfolio: PortfolioService): void {
  app.get(
    '/v1/portfolio/reports/monthly',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'The regulator-style monthly report (JSON or CSV)',
        querystring: MonthQuery,
        response: {
          200: {
            description: 'The report: JSON, or CSV with format=csv',
            content: {
              'application/json': { schema: R.MonthlyReport },
              'text/csv': { schema: Type.String() },
            },
          },
          ...R.READ_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const report = await portfolio.monthlyReport(request.query.month);
      if (request.query.format !== 'csv') return report;
      return reply.type('text/csv; charset=utf-8').send(monthlyReportCsv(report));
    },
  );
}
