import type { ReactNode } from 'react';
import { formatTime, useI18n } from '../i18n';
import { Badge } from './Status';

export interface TraceStep {
  node: string;
  kind: string;
  detail: string;
  fired?: string[];
  inputs?: Record<string, unknown>;
  values?: Record<string, unknown>;
}

export interface DecisionRecordView {
  id: string;
  kind: string;
  context: Record<string, unknown>;
  decision: {
    outcome: string;
    reasons: (string | { code: string })[];
    trace: TraceStep[];
    strategyId: string;
    strategyVersion: number;
  };
  decidedAt: number;
  latencyMs: number;
}

/** A decision with its point-in-time inputs and its trace, node by node, each with what it read and produced. */
export function DecisionView({ record }: { record: DecisionRecordView }): ReactNode {
  const { t, lang } = useI18n();
  const d = record.decision;
  return (
    <article aria-label={`${t('decisionId')} ${record.id}`}>
      <p>
        <Badge value={d.outcome} /> {d.strategyId} v{d.strategyVersion} · {formatTime(record.decidedAt, lang)}{' '}
        · {record.latencyMs} ms · {t('reasons')}:{' '}
        {d.reasons.map((r) => (typeof r === 'string' ? r : r.code)).join(', ') || '—'}
      </p>
      <h3>{t('trace')}</h3>
      <ol className="trace" data-testid="trace">
        {d.trace.map((step, i) => (
          <li key={`${step.node}-${i}`}>
            <details>
              <summary>
                <strong>{step.node}</strong> <small>{step.kind}</small> — {step.detail}
                {step.fired && step.fired.length > 0 && <> · {step.fired.join(', ')}</>}
              </summary>
              {step.inputs && <KeyValues title={t('inputs')} values={step.inputs} />}
              {step.values && <KeyValues title={t('outcome')} values={step.values} />}
            </details>
          </li>
        ))}
      </ol>
      <details>
        <summary>{t('inputs')}</summary>
        <KeyValues title={t('inputs')} values={record.context} />
      </details>
    </article>
  );
}

function KeyValues({ title, values }: { title: string; values: Record<string, unknown> }): ReactNode {
  return (
    <table>
      <caption className="sr-only">{title}</caption>
      <tbody>
        {Object.entries(values).map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>
              <code>{JSON.stringify(v)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
