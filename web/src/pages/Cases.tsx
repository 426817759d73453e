import { useState, type ReactNode } from 'react';
import { api, errorOf, idempotencyKey, type ApiError } from '../api/client';
import type { CaseDetail, CaseView, PendingChange } from '../api/views';
import { formatTime, useI18n } from '../i18n';
import { href } from '../router';
import { useLoad } from '../components/useLoad';
import { Badge, ErrorNote, Loading } from '../components/Status';
import { DecisionView, type DecisionRecordView } from '../components/DecisionView';
import { CaseOutcomes } from '../components/CaseOutcomes';
import type { Session } from '../ConsoleApp';
import { serverNow } from '../server-clock';

const STATES = ['OPEN', 'ASSIGNED', 'PENDING_CUSTOMER', 'ESCALATED', 'RESOLVED'] as const;
type CaseState = (typeof STATES)[number];

/** Time left on the SLA, or how long it is overdue, in hours and minutes. */
function slaLeft(dueAt: string, now: number): { text: string; late: boolean } {
  const ms = Date.parse(dueAt) - now;
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const text = `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  return { text: ms < 0 ? `−${text}` : text, late: ms < 0 };
}

export function CasesPage(): ReactNode {
  const { t, lang } = useI18n();
  const [state, setState] = useState<CaseState>('OPEN');
  const cases = useLoad(
    () => api.GET('/v1/cases', { params: { query: { state, limit: 100 } } }),
    [state],
    15_000,
  );
  const items = (cases.data as { items?: CaseView[] } | undefined)?.items ?? [];
  // The server's now: a browser clock that is off would show an SLA met or missed that is not.
  const now = serverNow();
  return (
    <section aria-labelledby="cases-title">
      <h1 id="cases-title">{t('cases')}</h1>
      <label>
        {t('status')}{' '}
        <select value={state} onChange={(e) => setState(e.target.value as CaseState)}>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <Loading when={cases.loading} />
      <ErrorNote error={cases.error} />
      <table>
        <caption>{t('cases')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('type')}</th>
            <th scope="col">{t('priorityWord')}</th>
            <th scope="col">{t('status')}</th>
            <th scope="col">{t('sla')}</th>
            <th scope="col">{t('assignee')}</th>
            <th scope="col">{t('when')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => {
            const sla = slaLeft(c.slaDueAt, now);
            return (
              <tr key={c.id}>
                <td>
                  <a href={href('cases', c.id)}>{c.type}</a> {c.typologyId && <small>{c.typologyId}</small>}
                </td>
                <td className="num">{c.priority}</td>
                <td>
                  <Badge value={c.state} />
                </td>
                <td className={sla.late ? 'num error' : 'num'}>{c.state === 'RESOLVED' ? '—' : sla.text}</td>
                <td>{c.assignee ?? '—'}</td>
                <td>{formatTime(c.createdAt, lang)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

export function CasePage({ caseId, session }: { caseId: string; session: Session }): ReactNode {
  const { t, lang } = useI18n();
  const detail = useLoad(() => api.GET('/v1/cases/{id}', { params: { path: { id: caseId } } }), [caseId]);
  const [error, setError] = useState<ApiError>();
  const c = detail.data as CaseDetail | undefined;
  const act = async (call: Promise<{ error?: unknown }>): Promise<void> => {
    const { error: failure } = await call;
    setError(failure ? errorOf(failure) : undefined);
    detail.reload();
  };
  const assign = () =>
    act(
      api.POST('/v1/cases/{id}/assign', {
        params: { path: { id: caseId }, header: { 'idempotency-key': idempotencyKey() } },
        body: {},
      }) as Promise<{
        error?: unknown;
      }>,
    );
  // The case's evidence names the decision in its own shape ({decisionId, outcome, trace, …}), not the stored record
  // DecisionView draws (rendered as one, every case with a decision crashed the page): the record is read by its id, as
  // the ledger page reads it. Should it not open (a sealed trace no held key opens), the evidence below still shows it.
  const decisionId = (c?.evidence.decision as { decisionId?: unknown } | null | undefined)?.decisionId;
  const stored = useLoad(
    () =>
      typeof decisionId === 'string'
        ? api.GET('/v1/decisions/{id}', { params: { path: { id: decisionId } } })
        : Promise.resolve({ data: undefined }),
    [decisionId],
  );
  const decision =
    typeof decisionId === 'string' ? (stored.data as DecisionRecordView | undefined) : undefined;
  const canWork = ['admin', 'analyst', 'supervisor', 'risk_analyst'].includes(session.role);
  return (
    <section aria-labelledby="case-title">
      <h1 id="case-title">
        {c?.type ?? t('cases')} <code>{caseId.slice(0, 13)}</code>
      </h1>
      <Loading when={detail.loading && !c} />
      <ErrorNote error={detail.error ?? error} />
      {c && (
        <>
          <dl className="facts">
            <dt>{t('status')}</dt>
            <dd>
              <Badge value={c.state} /> {c.outcome && <Badge value={c.outcome} />}
            </dd>
            <dt>{t('sla')}</dt>
            <dd>{formatTime(c.slaDueAt, lang)}</dd>
            <dt>{t('assignee')}</dt>
            <dd>{c.assignee ?? '—'}</dd>
            {c.lineId && (
              <>
                <dt>{t('lines')}</dt>
                <dd>
                  <a href={href('lines', c.lineId)}>{c.lineId.slice(0, 13)}</a>
                </dd>
              </>
            )}
          </dl>
          {c.state !== 'RESOLVED' && (
            <div data-testid="case-outcomes">
              {/* A case waiting under four eyes is the checker's to settle: nobody takes it meanwhile. */}
              {canWork && c.state !== 'ESCALATED' && (
                <div className="buttons">
                  <button type="button" onClick={() => void assign()}>
                    {t('assignToMe')}
                  </button>
                </div>
              )}
              <CaseOutcomes key={c.id} item={c} canWork={canWork} onSettled={detail.reload} />
            </div>
          )}
          {decision && <DecisionView record={decision} />}
          <h2>{t('evidence')}</h2>
          <details open>
            <summary>{t('evidence')}</summary>
            <pre className="diff" tabIndex={0}>
              {JSON.stringify({ ...c.evidence, ...(decision ? { decision: undefined } : {}) }, null, 2)}
            </pre>
          </details>
          <h2>{t('notes')}</h2>
          <ul>
            {c.notes.map((n, i) => (
              <li key={i}>{n.text}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** Four eyes: what makers asked for, waiting on a second person; the maker's own changes cannot be approved. */
export function ChangesPage({ session }: { session: Session }): ReactNode {
  const { t, lang } = useI18n();
  const changes = useLoad(
    () => api.GET('/v1/changes', { params: { query: { state: 'PENDING' } } }),
    [],
    15_000,
  );
  const [error, setError] = useState<ApiError>();
  const items = (changes.data as { items?: PendingChange[] } | undefined)?.items ?? [];
  const checker = session.role === 'admin' || session.role === 'supervisor';
  const decide = async (id: string, verdict: 'approve' | 'reject'): Promise<void> => {
    const path = verdict === 'approve' ? '/v1/changes/{id}/approve' : '/v1/changes/{id}/reject';
    const { error: failure } = await api.POST(path, {
      params: { path: { id }, header: { 'idempotency-key': idempotencyKey() } },
      body: verdict === 'approve' ? {} : { note: 'rejected in the console' },
    });
    setError(failure ? errorOf(failure) : undefined);
    changes.reload();
  };
  return (
    <section aria-labelledby="changes-title">
      <h1 id="changes-title">{t('changes')}</h1>
      <Loading when={changes.loading} />
      <ErrorNote error={changes.error ?? error} />
      <table>
        <caption>{t('changes')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('type')}</th>
            <th scope="col">{t('by')}</th>
            <th scope="col">{t('reasons')}</th>
            <th scope="col">{t('diffWord')}</th>
            <th scope="col">{t('expires')}</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={c.id} data-testid="pending-change">
              <td>{c.operation}</td>
              <td>{c.maker}</td>
              <td>{c.reason}</td>
              <td>
                <code>{JSON.stringify(c.diff)}</code>
              </td>
              <td>{formatTime(c.expiresAt, lang)}</td>
              <td>
                {checker && (
                  <span className="buttons">
                    <button type="button" onClick={() => void decide(c.id, 'approve')}>
                      {t('approve')}
                    </button>
                    <button type="button" onClick={() => void decide(c.id, 'reject')}>
                      {t('reject')}
                    </button>
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
