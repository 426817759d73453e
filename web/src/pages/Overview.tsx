import type { ReactNode } from 'react';
import { api } from '../api/client';
import { formatPercent, useI18n } from '../i18n';
import { useLoad } from '../components/useLoad';
import { Badge, ErrorNote, Loading } from '../components/Status';
import { Tile } from '../components/Tile';
import { OutcomeChart } from '../components/OutcomeChart';

const REFRESH_MS = 5_000;

export function OverviewPage(): ReactNode {
  const { t, lang } = useI18n();
  const overview = useLoad(
    () => api.GET('/v1/console/overview', { params: { query: { windowMinutes: 60 } } }),
    [],
    REFRESH_MS,
  );
  const o = overview.data;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">
        {t('overview')} <small>{t('lastHour')}</small>
      </h1>
      <Loading when={overview.loading && !o} />
      <ErrorNote error={overview.error} />
      {o && (
        <>
          <div className="tiles">
            <Tile
              label={t('approvalRate')}
              value={formatPercent(o.rates.approval, lang)}
              testId="approval-rate"
            />
            <Tile label={t('declineRate')} value={formatPercent(o.rates.decline, lang)} />
            <Tile label={t('freezeRate')} value={formatPercent(o.rates.freeze, lang)} />
            <Tile label={t('latency')} value={`${ms(o.latencyMs.p50)} / ${ms(o.latencyMs.p99)} ms`} />
            <Tile label={t('openAlerts')} value={String(o.openAlerts.reduce((s, a) => s + a.count, 0))} />
            <Tile label={t('ledgerHead')} value={o.ledger ? `#${o.ledger.seq}` : '—'} />
          </div>
          {o.perMinute.length > 0 ? (
            <OutcomeChart
              points={o.perMinute}
              fromMs={Date.parse(o.asOf) - o.windowMinutes * 60_000}
              toMs={Date.parse(o.asOf)}
              label={t('decisionsPerMinute')}
              axes={{
                time: t('chartTime'),
                perMinute: t('chartPerMinute'),
                locale: lang === 'zh' ? 'zh-CN' : 'en-GB',
              }}
            />
          ) : (
            <p>{t('noData')}</p>
          )}
          <div className="columns">
            <table>
              <caption>{t('linesByStatus')}</caption>
              <tbody>
                {o.lines.map((l) => (
                  <tr key={l.status}>
                    <th scope="row">
                      <Badge value={l.status} />
                    </th>
                    <td className="num">{l.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <table>
              <caption>{t('openAlerts')}</caption>
              <tbody>
                {o.openAlerts.length === 0 && (
                  <tr>
                    <td>{t('noData')}</td>
                  </tr>
                )}
                {o.openAlerts.map((a) => (
                  <tr key={a.severity}>
                    <th scope="row">
                      <Badge value={a.severity} />
                    </th>
                    <td className="num">{a.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function ms(value: number | null): string {
  return value === null ? '—' : value.toFixed(value < 10 ? 2 : 0);
}
