import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api/client';
import type { LineView, LoanView } from '../api/views';
import { formatMoney, formatPercent, formatTime, useI18n } from '../i18n';
import { href } from '../router';
import { useLoad } from '../components/useLoad';
import { Badge, ErrorNote, Loading } from '../components/Status';

type LineStatus = 'PENDING' | 'ACTIVE' | 'DRAW_FROZEN' | 'SUSPENDED' | 'CLOSED' | 'REVOKED';
const STATUSES: readonly LineStatus[] = [
  'ACTIVE',
  'DRAW_FROZEN',
  'SUSPENDED',
  'CLOSED',
  'PENDING',
  'REVOKED',
];

export function LinesPage(): ReactNode {
  const { t, lang } = useI18n();
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState<string | undefined>();
  const [status, setStatus] = useState<LineStatus | ''>('');
  const [after, setAfter] = useState<string[]>([]);
  const cursor = after.at(-1);
  const lines = useLoad(
    () =>
      api.GET('/v1/console/lines', {
        params: { query: { q: query, status: status || undefined, after: cursor, limit: 25 } },
      }),
    [query, status, cursor],
  );
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setAfter([]);
    setQuery(draft.trim().length >= 4 ? draft.trim() : undefined);
  };
  return (
    <section aria-labelledby="lines-title">
      <h1 id="lines-title">{t('lines')}</h1>
      <form className="row" onSubmit={submit} role="search">
        <label htmlFor="line-query">{t('searchLines')}</label>
        <input id="line-query" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <label htmlFor="line-status">{t('status')}</label>
        <select
          id="line-status"
          value={status}
          onChange={(e) => {
            setAfter([]);
            setStatus(e.target.value as LineStatus | '');
          }}
        >
          <option value="">{t('all')}</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <button type="submit">{t('search')}</button>
      </form>
      <Loading when={lines.loading} />
      <ErrorNote error={lines.error} />
      <table>
        <caption>{t('lines')}</caption>
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">{t('borrower')}</th>
            <th scope="col">{t('status')}</th>
            <th scope="col">{t('limit')}</th>
            <th scope="col">{t('available')}</th>
            <th scope="col">{t('dpd')}</th>
          </tr>
        </thead>
        <tbody>
          {lines.data?.items.map((l) => (
            <tr key={l.id}>
              <td>
                <a href={href('lines', l.id)}>
                  <code>{l.id.slice(0, 13)}</code>
                </a>
              </td>
              <td>
                <code>{l.borrowerId.slice(0, 13)}</code>
              </td>
              <td>
                <Badge value={l.status} />
              </td>
              <td className="num">{formatMoney(l.limitMinor, l.currency, lang)}</td>
              <td className="num">{formatMoney(l.availableMinor, l.currency, lang)}</td>
              <td className="num">
                {l.dpd} {l.bucket}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {lines.data?.nextCursor && (
        <button type="button" onClick={() => setAfter((a) => [...a, lines.data?.nextCursor ?? ''])}>
          {t('next')}
        </button>
      )}
    </section>
  );
}

export function LinePage({ lineId }: { lineId: string }): ReactNode {
  const { t, lang } = useI18n();
  const line = useLoad(() => api.GET('/v1/lines/{id}', { params: { path: { id: lineId } } }), [lineId]);
  const history = useLoad(
    () => api.GET('/v1/console/lines/{id}/history', { params: { path: { id: lineId } } }),
    [lineId],
  );
  const l = line.data as LineView | undefined;
  return (
    <section aria-labelledby="line-title">
      <h1 id="line-title">
        {t('lines')} <code>{lineId.slice(0, 13)}</code>
      </h1>
      <Loading when={line.loading && !l} />
      <ErrorNote error={line.error ?? history.error} />
      {l && (
        <dl className="facts">
          <dt>{t('status')}</dt>
          <dd>
            <Badge value={l.status} />
          </dd>
          <dt>{t('borrower')}</dt>
          <dd>
            {l.borrower.name} · {l.borrower.phone}
          </dd>
          <dt>{t('limit')}</dt>
          <dd>{formatMoney(l.limitMinor, l.currency, lang)}</dd>
          <dt>{t('available')}</dt>
          <dd>{formatMoney(l.availableMinor, l.currency, lang)}</dd>
          <dt>{t('outstanding')}</dt>
          <dd>{formatMoney(l.outstandingPrincipalMinor, l.currency, lang)}</dd>
          <dt>{t('rate')}</dt>
          <dd>{formatPercent(l.annualRate, lang)}</dd>
          <dt>{t('dpd')}</dt>
          <dd>
            {l.dpd} ({l.bucket})
          </dd>
        </dl>
      )}
      {history.data && (
        <>
          <table>
            <caption>{t('actions')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('type')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('limit')}</th>
                <th scope="col">{t('reasons')}</th>
                <th scope="col">{t('by')}</th>
              </tr>
            </thead>
            <tbody>
              {history.data.actions.map((a) => (
                <tr key={a.id}>
                  <td>{formatTime(a.createdAt, lang)}</td>
                  <td>
                    {a.type} {a.outcome !== 'APPLIED' && <Badge value={a.outcome} />}
                  </td>
                  <td>
                    {a.prevStatus} → {a.newStatus}
                  </td>
                  <td className="num">
                    {l &&
                      `${formatMoney(a.prevLimitMinor, l.currency, lang)} → ${formatMoney(a.newLimitMinor, l.currency, lang)}`}
                  </td>
                  <td>{a.reasons.join(', ')}</td>
                  <td>{a.automated ? t('automated') : (a.actor ?? '—')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>{t('loans')}</h2>
          {history.data.loans.slice(0, 10).map((loan) => (
            <Loan key={loan.id} loanId={loan.id} />
          ))}
          <table>
            <caption>{t('alerts')}</caption>
            <tbody>
              {history.data.alerts.map((a) => (
                <tr key={a.alertId}>
                  <td>
                    <a href={href('queues', a.alertId)}>{formatTime(a.createdAt, lang)}</a>
                  </td>
                  <td>{a.typologyId}</td>
                  <td>
                    <Badge value={a.severity} />
                  </td>
                  <td>
                    <Badge value={a.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function Loan({ loanId }: { loanId: string }): ReactNode {
  const { t, lang } = useI18n();
  const loan = useLoad(() => api.GET('/v1/loans/{id}', { params: { path: { id: loanId } } }), [loanId]);
  const l = loan.data as LoanView | undefined;
  if (!l) return <ErrorNote error={loan.error} />;
  const money = (minor: number): string => formatMoney(minor, l.currency, lang);
  return (
    <details className="loan">
      <summary>
        {money(l.principalMinor)} · {l.termMonths} × {l.method} · <Badge value={l.status} /> · APR CN_IRR{' '}
        {l.disclosure.apr.CN_IRR.toFixed(2)}% · US_REGZ {l.disclosure.apr.US_REGZ.toFixed(2)}% · EU_CCD{' '}
        {l.disclosure.apr.EU_CCD.toFixed(2)}%
      </summary>
      <table>
        <caption>
          {t('principal')} {money(l.principalMinor)} · {t('outstanding')} {money(l.outstandingPrincipalMinor)}
        </caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('when')}</th>
            <th scope="col">{t('principal')}</th>
            <th scope="col">{t('rate')}</th>
            <th scope="col">{t('cost')}</th>
          </tr>
        </thead>
        <tbody>
          {l.schedule.map((i) => (
            <tr key={i.dueDate}>
              <td>{i.period}</td>
              <td>{i.dueDate}</td>
              <td className="num">{money(i.principalMinor)}</td>
              <td className="num">{money(i.interestMinor)}</td>
              <td className="num">{money(i.feeMinor)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
