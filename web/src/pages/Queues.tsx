import { useState, type ReactNode } from 'react';
import { api, errorOf, type ApiError } from '../api/client';
import { formatMoney, formatTime, useI18n } from '../i18n';
import { href } from '../router';
import { useLoad } from '../components/useLoad';
import { Badge, ErrorNote, Loading } from '../components/Status';
import { EntityGraph } from '../components/EntityGraph';
import { can, type Session } from '../ConsoleApp';

type AlertStatus = 'OPEN' | 'ACKNOWLEDGED' | 'CLOSED';

interface AlertListItem {
  alertId: string;
  typology: { id: string };
  severity: string;
  status: string;
  userId: string;
  createdAt: string;
  reasons: string[];
}

export function QueuesPage(): ReactNode {
  const { t, lang } = useI18n();
  const [status, setStatus] = useState<AlertStatus>('OPEN');
  const alerts = useLoad(
    () => api.GET('/v1/alerts', { params: { query: { status, limit: 50 } } }),
    [status],
    10_000,
  );
  const items = ((alerts.data as { items?: AlertListItem[] } | undefined)?.items ??
    []) satisfies AlertListItem[];
  return (
    <section aria-labelledby="queues-title">
      <h1 id="queues-title">{t('queues')}</h1>
      <label>
        {t('status')}{' '}
        <select value={status} onChange={(e) => setStatus(e.target.value as AlertStatus)}>
          <option value="OPEN">OPEN</option>
          <option value="ACKNOWLEDGED">ACKNOWLEDGED</option>
          <option value="CLOSED">CLOSED</option>
        </select>
      </label>
      <Loading when={alerts.loading} />
      <ErrorNote error={alerts.error} />
      <table>
        <caption>{t('alerts')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('when')}</th>
            <th scope="col">{t('typology')}</th>
            <th scope="col">{t('severity')}</th>
            <th scope="col">{t('user')}</th>
            <th scope="col">{t('reasons')}</th>
            <th scope="col">{t('status')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.alertId}>
              <td>
                <a href={href('queues', a.alertId)}>{formatTime(a.createdAt, lang)}</a>
              </td>
              <td>{a.typology.id}</td>
              <td>
                <Badge value={a.severity} />
              </td>
              <td>
                <code>{a.userId}</code>
              </td>
              <td>{a.reasons.join(', ')}</td>
              <td>
                <Badge value={a.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function AlertPage({ alertId, session }: { alertId: string; session: Session }): ReactNode {
  const { t, lang } = useI18n();
  const evidence = useLoad(
    () => api.GET('/v1/console/alerts/{id}', { params: { path: { id: alertId } } }),
    [alertId],
  );
  const [actionError, setActionError] = useState<ApiError>();
  const setStatus = async (status: AlertStatus): Promise<void> => {
    const { error } = await api.POST('/v1/alerts/{alertId}/status', {
      params: { path: { alertId } },
      body: { status },
    });
    setActionError(error ? errorOf(error) : undefined);
    evidence.reload();
  };
  const e = evidence.data;
  return (
    <section aria-labelledby="alert-title">
      <h1 id="alert-title">
        {t('alerts')} <code>{alertId.slice(0, 13)}</code>
      </h1>
      <Loading when={evidence.loading && !e} />
      <ErrorNote error={evidence.error ?? actionError} />
      {e && (
        <>
          <dl className="facts">
            <dt>{t('typology')}</dt>
            <dd>{e.alert.typologyId}</dd>
            <dt>{t('severity')}</dt>
            <dd>
              <Badge value={e.alert.severity} />
            </dd>
            <dt>{t('status')}</dt>
            <dd>
              <Badge value={e.alert.status} />
            </dd>
            <dt>{t('user')}</dt>
            <dd>
              <code>{e.alert.userId}</code>
              {e.alert.lineId && (
                <>
                  {' '}
                  · <a href={href('lines', e.alert.lineId)}>{e.alert.lineId.slice(0, 13)}</a>
                </>
              )}
            </dd>
            <dt>{t('reasons')}</dt>
            <dd>{e.alert.reasons.join(', ')}</dd>
            <dt>{t('rules')}</dt>
            <dd>{e.alert.evidence.rules.join(', ')}</dd>
          </dl>
          {can(session, 'workAlerts') && (
            <div className="buttons">
              <button type="button" onClick={() => void setStatus('ACKNOWLEDGED')}>
                {t('acknowledge')}
              </button>
              <button type="button" onClick={() => void setStatus('CLOSED')}>
                {t('close')}
              </button>
            </div>
          )}
          <h2>{t('features')}</h2>
          <table>
            <tbody>
              {Object.entries(e.alert.evidence.features).map(([name, value]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td className="num">{JSON.stringify(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>{t('entityGraph')}</h2>
          <EntityGraph
            focusUser={e.alert.userId}
            events={[...e.timeline, ...e.shared]}
            label={t('entityGraph')}
          />
          <h2>{t('evidence')}</h2>
          <ol className="timeline">
            {e.timeline.map((ev) => (
              <li
                key={ev.eventId}
                className={e.alert.evidence.eventIds.includes(ev.eventId) ? 'hit' : undefined}
              >
                <time dateTime={ev.occurredAt}>{formatTime(ev.occurredAt, lang)}</time>{' '}
                <strong>{ev.type}</strong>
                {ev.amountMinor !== null && ev.currency && (
                  <> {formatMoney(ev.amountMinor, ev.currency, lang)}</>
                )}
                {ev.deviceId && <> · device {ev.deviceId}</>}
                {ev.payeeId && <> · payee {ev.payeeId}</>}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
