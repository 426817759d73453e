import type { ReactNode } from 'react';
import { api } from '../api/client';
import { formatMoney, formatPercent, useI18n } from '../i18n';
import { useLoad } from '../components/useLoad';
import { ErrorNote, Loading } from '../components/Status';
import { Tile } from '../components/Tile';

interface Snapshot {
  asOf: string;
  outstandingMinor: number;
  byBucket: Record<string, { loans: number; outstandingMinor: number }>;
  m1PlusRate: number;
  m2PlusRate: number;
  rollRates: Record<string, number>;
  decisions: { applications: number; approvalRate: number; declineRate: number };
  restrictions: { freezeRate: number; suspensionRate: number };
  /** `unreadable`: application results no held key opens, left out of count and PSI (absent when none). */
  score: { count: number; psi: number | null; unreadable?: number };
  /** Null in snapshots stored before complaints and appeals were counted. */
  complaints: CaseVolume | null;
  appeals: CaseVolume | null;
}

interface CaseVolume {
  openAtEnd: number;
  overdueAtEnd: number;
}

/** "open (overdue)" at the snapshot's date, or a dash for a snapshot that did not count them. */
const openOf = (v: CaseVolume | null): string => (v === null ? '—' : `${v.openAtEnd} (${v.overdueAtEnd})`);

interface LabelStats {
  alerts: number;
  undisposed: number;
  falsePositiveRate: number | null;
}

interface TypeStats {
  cases: number;
  resolved: number;
  resolvedWithinSla: number;
  breached: number;
}

/** The book over time (daily snapshots), model drift (PSI) and how the alert typologies and queues perform. */
export function PortfolioPage(): ReactNode {
  const { t, lang } = useI18n();
  const snapshots = useLoad(
    () => api.GET('/v1/portfolio/snapshots', { params: { query: { limit: 60 } } }),
    [],
  );
  const stats = useLoad(() => api.GET('/v1/cases/stats', { params: { query: {} } }), []);
  const rows = ((snapshots.data as { snapshots?: Snapshot[] } | undefined)?.snapshots ?? []).slice(-30);
  const s = stats.data as
    { byTypology?: Record<string, LabelStats>; byType?: Record<string, TypeStats> } | undefined;
  const latest = rows.at(-1);
  return (
    <section aria-labelledby="portfolio-title">
      <h1 id="portfolio-title">{t('portfolio')}</h1>
      <Loading when={snapshots.loading} />
      <ErrorNote error={snapshots.error ?? stats.error} />
      {latest && (
        <div className="tiles">
          <Tile label={t('outstanding')} value={formatMoney(latest.outstandingMinor, 'CNY', lang)} />
          <Tile label="M1+" value={formatPercent(latest.m1PlusRate, lang)} />
          <Tile label="M1→M2" value={formatPercent(latest.rollRates['M1->M2'], lang)} />
          <Tile
            label="PSI"
            value={latest.score.psi === null ? '—' : latest.score.psi.toFixed(3)}
            testId="psi"
          />
          {latest.score.unreadable !== undefined && (
            <Tile
              label={t('unreadableScores')}
              value={String(latest.score.unreadable)}
              testId="unreadable-scores"
            />
          )}
          <Tile label={t('approvalRate')} value={formatPercent(latest.decisions.approvalRate, lang)} />
          <Tile label={t('freezeRate')} value={formatPercent(latest.restrictions.freezeRate, lang)} />
          <Tile label={t('openComplaints')} value={openOf(latest.complaints)} testId="open-complaints" />
          <Tile label={t('openAppeals')} value={openOf(latest.appeals)} testId="open-appeals" />
        </div>
      )}
      <table data-testid="snapshots">
        <caption>{t('snapshots')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('when')}</th>
            <th scope="col">{t('outstanding')}</th>
            <th scope="col">M1+</th>
            <th scope="col">M2+</th>
            <th scope="col">{t('approvalRate')}</th>
            <th scope="col">PSI</th>
          </tr>
        </thead>
        <tbody>
          {rows
            .slice()
            .reverse()
            .map((r) => (
              <tr key={r.asOf}>
                <td>{r.asOf}</td>
                <td className="num">{formatMoney(r.outstandingMinor, 'CNY', lang)}</td>
                <td className="num">{formatPercent(r.m1PlusRate, lang)}</td>
                <td className="num">{formatPercent(r.m2PlusRate, lang)}</td>
                <td className="num">{formatPercent(r.decisions.approvalRate, lang)}</td>
                <td className="num">{r.score.psi === null ? '—' : r.score.psi.toFixed(3)}</td>
              </tr>
            ))}
        </tbody>
      </table>
      <table>
        <caption>{t('typologyQuality')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('typology')}</th>
            <th scope="col">{t('alerts')}</th>
            <th scope="col">{t('undisposed')}</th>
            <th scope="col">{t('falsePositiveRate')}</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(s?.byTypology ?? {}).map(([typology, l]) => (
            <tr key={typology}>
              <th scope="row">{typology}</th>
              <td className="num">{l.alerts}</td>
              <td className="num">{l.undisposed}</td>
              <td className="num">{formatPercent(l.falsePositiveRate, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table>
        <caption>{t('slaAttainment')}</caption>
        <tbody>
          {Object.entries(s?.byType ?? {}).map(([type, c]) => (
            <tr key={type}>
              <th scope="row">{type}</th>
              <td className="num">
                {c.resolvedWithinSla}/{c.resolved} ({c.cases})
              </td>
              <td className="num">{c.breached}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
