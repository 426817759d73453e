import { useState, type FormEvent, type ReactNode } from 'react';
import { api, errorOf, type ApiError } from '../api/client';
import { formatTime, useI18n } from '../i18n';
import { useLoad } from '../components/useLoad';
import { ErrorNote, Loading } from '../components/Status';
import { DecisionView, type DecisionRecordView } from '../components/DecisionView';

interface Checkpoint {
  treeSize: number;
  rootHash: string;
  issuedAt: number;
  keyId: string;
}

export function LedgerPage(): ReactNode {
  const { t, lang } = useI18n();
  const overview = useLoad(
    () => api.GET('/v1/console/overview', { params: { query: { windowMinutes: 1 } } }),
    [],
  );
  const [decisionId, setDecisionId] = useState('');
  const [record, setRecord] = useState<DecisionRecordView>();
  const [error, setError] = useState<ApiError>();
  const find = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const { data, error: failure } = await api.GET('/v1/decisions/{id}', {
      params: { path: { id: decisionId.trim() } },
    });
    setError(failure ? errorOf(failure) : undefined);
    setRecord(data as DecisionRecordView | undefined);
  };
  const head = overview.data?.ledger;
  const checkpoints = useLoad(() => api.GET('/v1/ledger/checkpoints', { params: { query: {} } }), []);
  const signed = ((checkpoints.data as { checkpoints?: Checkpoint[] } | undefined)?.checkpoints ?? [])
    .slice(-10)
    .reverse();
  return (
    <section aria-labelledby="ledger-title">
      <h1 id="ledger-title">{t('ledger')}</h1>
      <Loading when={overview.loading} />
      <ErrorNote error={overview.error} />
      <dl className="facts">
        <dt>{t('entries')}</dt>
        <dd data-testid="ledger-seq">{head ? head.seq : '—'}</dd>
        <dt>{t('headHash')}</dt>
        <dd>
          <code>{head?.hash ?? '—'}</code>
        </dd>
      </dl>
      <table data-testid="checkpoints">
        <caption>{t('checkpoints')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('when')}</th>
            <th scope="col">{t('entries')}</th>
            <th scope="col">Root</th>
            <th scope="col">Key</th>
          </tr>
        </thead>
        <tbody>
          {signed.map((c) => (
            <tr key={`${c.treeSize}-${c.issuedAt}`}>
              <td>{formatTime(c.issuedAt, lang)}</td>
              <td className="num">{c.treeSize}</td>
              <td>
                <code>{c.rootHash.slice(0, 16)}…</code>
              </td>
              <td>
                <code>{c.keyId}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('lookUpDecision')}</h2>
      <form className="row" onSubmit={(e) => void find(e)}>
        <label htmlFor="decision-id">{t('decisionId')}</label>
        <input id="decision-id" value={decisionId} onChange={(e) => setDecisionId(e.target.value)} required />
        <button type="submit">{t('find')}</button>
      </form>
      <ErrorNote error={error} />
      {record && <DecisionView record={record} />}
    </section>
  );
}
