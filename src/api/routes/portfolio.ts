import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { SNAPSHOTS_LIST_MAX, monthlyReportCsv, type PortfolioService } from '../../compliance/index.js';
import { LgError } from '../../domain/errors.js';
import { READERS } from '../types.js';

/** Portfolio snapshots, early warnings and the monthly report (read-only; `jobs daily` writes the snapshots). */
const tags = ['portfolio'];
const DATE = '^\\d{4}-\\d{2}-\\d{2}$';
const RangeQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ pattern: DATE })),
    to: Type.Optional(Type.String({ pattern: DATE })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SNAPSHOTS_LIST_MAX })),
  },
  { additionalProperties: false },
);
const AsOfParams = Type.Object({ asOf: Type.String({ pattern: DATE }) });
const MonthQuery = Type.Object(
  {
    month: Type.String({ pattern: '^\\d{4}-\\d{2}$' }),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);

export function portfolioRoutes(deps: { portfolio: PortfolioService }): FastifyPluginAsync {
  const { portfolio } = deps;
  return async (app) => {
    app.get<{ Querystring: Static<typeof RangeQuery> }>(
      '/v1/portfolio/snapshots',
      {
        config: { roles: READERS },
        schema: { tags, summary: 'Daily portfolio snapshots in a date range', querystring: RangeQuery },
      },
      async (request) => ({ snapshots: await portfolio.list(request.query) }),
    );
    app.get(
      '/v1/portfolio/snapshots/latest',
      { config: { roles: READERS }, schema: { tags, summary: 'The latest portfolio snapshot' } },
      async () => {
        const latest = await portfolio.latest();
        if (!latest)
          throw new LgError('LG_NOT_FOUND', 'no portfolio snapshot yet: run `lineguard jobs daily`');
        return latest;
      },
    );
    app.get<{ Params: Static<typeof AsOfParams> }>(
      '/v1/portfolio/snapshots/:asOf',
      {
        config: { roles: READERS },
        schema: { tags, summary: 'The snapshot of one date', params: AsOfParams },
      },
      async (request) => portfolio.get(request.params.asOf),
    );
    app.get<{ Querystring: Static<typeof RangeQuery> }>(
      '/v1/portfolio/warnings',
      {
        config: { roles: READERS },
        schema: {
          tags,
          summary: 'Early-warning breaches with their figures and alert ids',
          querystring: RangeQuery,
        },
      },
      async (request) => ({ warnings: await portfolio.warnings(request.query) }),
    );
    app.get<{ Querystring: Static<typeof MonthQuery> }>(
      '/v1/portfolio/reports/monthly',
      {
        config: { roles: READERS },
        schema: {
          tags,
          summary: 'The regulator-style monthly report (JSON or CSV)',
          querystring: MonthQuery,
        },
      },
      async (request, reply) => {
        const report = await portfolio.monthlyReport(request.query.month);
        if (request.query.format !== 'csv') return report;
        return reply.type('text/csv; charset=utf-8').send(monthlyReportCsv(report));
      },
    );
  };
}
