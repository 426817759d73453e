import { useEffect, useState, type ReactNode } from 'react';
import { api, errorOf, idempotencyKey, type ApiError } from '../api/client';
import type {
  OverlayChange,
  OverlayDeclaration,
  OverlayView,
  SimulationReport,
  StrategySummary,
  StrategyVersion,
} from '../api/views';
import { formatPercent, formatTime, useI18n } from '../i18n';
import { href } from '../router';
import { useLoad } from '../components/useLoad';
import { Badge, ErrorNote, Loading } from '../components/Status';
import { diffLines } from '../components/diff';
import { can, type Session } from '../ConsoleApp';

export function StrategiesPage(): ReactNode {
  const { t, lang } = useI18n();
  const list = useLoad(() => api.GET('/v1/strategies'), []);
  const overlays = useLoad(() => api.GET('/v1/overlays'), []);
  const strategies = (list.data as { strategies?: StrategySummary[] } | undefined)?.strategies ?? [];
  const overlayData = overlays.data as
    { overlays?: OverlayView[]; declarations?: OverlayDeclaration[] } | undefined;
  const history = useLoad(() => api.GET('/v1/overlays/history', { params: { query: {} } }), []);
  const changeList = (history.data as { changes?: OverlayChange[] } | undefined)?.changes ?? [];
  return (
    <section aria-labelledby="strategies-title">
      <h1 id="strategies-title">{t('strategies')}</h1>
      <Loading when={list.loading} />
      <ErrorNote error={list.error} />
      <table>
        <caption>{t('strategies')}</caption>
        <thead>
          <tr>
            <th scope="col">ID</th>
            <th scope="col">{t('active')}</th>
            <th scope="col">{t('versions')}</th>
            <th scope="col">{t('when')}</th>
          </tr>
        </thead>
        <tbody>
          {strategies.map((s) => (
            <tr key={s.id}>
              <td>
                <a href={href('strategies', s.id)}>{s.id}</a> <small>{s.name}</small>
              </td>
              <td className="num">{s.activeVersion ?? '—'}</td>
              <td className="num">{s.latestVersion}</td>
              <td>{formatTime(s.updatedAt, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table>
        <caption>{t('overlays')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('type')}</th>
            <th scope="col">{t('value')}</th>
            <th scope="col">{t('bounds')}</th>
            <th scope="col">{t('description')}</th>
          </tr>
        </thead>
        <tbody>
          {(overlayData?.declarations ?? []).map((d) => {
            const set = overlayData?.overlays?.find((o) => o.name === d.name);
            return (
              <tr key={d.name}>
                <th scope="row">{d.name}</th>
                <td className="num">{set ? JSON.stringify(set.value) : '—'}</td>
                <td className="num">
                  {d.min} … {d.max}
                </td>
                <td>{d.description}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <table>
        <caption>{t('overlayHistory')}</caption>
        <tbody>
          {changeList.slice(0, 20).map((c, i) => (
            <tr key={`${c.name}-${c.changedAt}-${i}`}>
              <td>{formatTime(c.changedAt, lang)}</td>
              <th scope="row">{c.name}</th>
              <td className="num">
                {JSON.stringify(c.previousValue)} → {JSON.stringify(c.value)}
              </td>
              <td>{c.changedBy}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function StrategyPage({ strategyId, session }: { strategyId: string; session: Session }): ReactNode {
  const { t, lang } = useI18n();
  const versions = useLoad(
    () => api.GET('/v1/strategies/{id}/versions', { params: { path: { id: strategyId } } }),
    [strategyId],
  );
  const list = ((versions.data as { versions?: StrategyVersion[] } | undefined)?.versions ?? [])
    .slice()
    .sort((a, b) => b.version - a.version);
  const [left, setLeft] = useState<number>();
  const [right, setRight] = useState<number>();
  const active = list.find((v) => v.status === 'active') ?? list[0];
  const leftVersion = list.find((v) => v.version === (left ?? active?.version));
  const rightVersion = list.find((v) => v.version === (right ?? list[0]?.version));
  return (
    <section aria-labelledby="strategy-title">
      <h1 id="strategy-title">
        {t('strategies')}: {strategyId}
      </h1>
      <Loading when={versions.loading} />
      <ErrorNote error={versions.error} />
      <table>
        <caption>{t('versions')}</caption>
        <tbody>
          {list.map((v) => (
            <tr key={v.version}>
              <th scope="row">v{v.version}</th>
              <td>
                <Badge value={v.status} />
              </td>
              <td>
                {v.createdBy} · {formatTime(v.createdAt, lang)}
              </td>
              <td>{v.activatedBy ? `${t('active')}: ${v.activatedBy}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('compare')}</h2>
      <div className="row">
        <VersionPicker
          label={`${t('compare')} A`}
          versions={list}
          value={leftVersion?.version}
          onChange={setLeft}
        />
        <VersionPicker
          label={`${t('compare')} B`}
          versions={list}
          value={rightVersion?.version}
          onChange={setRight}
        />
      </div>
      {leftVersion && rightVersion && (
        <VersionDiff before={leftVersion.document} after={rightVersion.document} />
      )}
      {can(session, 'writeStrategy') && active && (
        <Editor
          strategyId={strategyId}
          base={list[0]?.document ?? active.document}
          lenderToday={session.lenderToday}
          onSaved={versions.reload}
        />
      )}
    </section>
  );
}

function VersionPicker(props: {
  label: string;
  versions: readonly StrategyVersion[];
  value: number | undefined;
  onChange: (v: number) => void;
}): ReactNode {
  const id = `pick-${props.label.replace(/\W/g, '')}`;
  return (
    <span>
      <label htmlFor={id}>{props.label}</label>{' '}
      <select id={id} value={props.value ?? ''} onChange={(e) => props.onChange(Number(e.target.value))}>
        {props.versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version} ({v.status})
          </option>
        ))}
      </select>
    </span>
  );
}

function VersionDiff({ before, after }: { before: unknown; after: unknown }): ReactNode {
  const lines = diffLines(JSON.stringify(before, null, 2), JSON.stringify(after, null, 2));
  const changed = lines.filter((l) => l.kind !== 'same').length;
  return (
    <details open={changed > 0 && changed < 200}>
      <summary>{changed} ± lines</summary>
      <pre className="diff" data-testid="version-diff" tabIndex={0}>
        {lines.map((l, i) => (
          <span key={i} className={l.kind}>
            {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
            {l.text}
            {'\n'}
          </span>
        ))}
      </pre>
    </details>
  );
}

/** How many days a simulation covers unless the user picks others. */
const SIMULATION_DAYS = 30;

/** The calendar date `days` before `date` (YYYY-MM-DD): date arithmetic, whatever the browser's time zone. */
function daysBefore(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

/** Edit a candidate, validate it live against the API, simulate it against stored decisions, save and activate. */
function Editor({
  strategyId,
  base,
  lenderToday,
  onSaved,
}: {
  strategyId: string;
  base: unknown;
  /** Today on the lender's calendar, as the server told it: the browser's own date may be another day. */
  lenderToday: string;
  onSaved: () => void;
}): ReactNode {
  const { t } = useI18n();
  const [text, setText] = useState(() => JSON.stringify(base, null, 2));
  const [validation, setValidation] = useState<ApiError | 'valid'>();
  const [report, setReport] = useState<SimulationReport>();
  const [saved, setSaved] = useState<number>();
  const [error, setError] = useState<ApiError>();
  // The last 30 lender's days, today included: the server reads each date as its whole day on that calendar.
  const [from, setFrom] = useState(() => daysBefore(lenderToday, SIMULATION_DAYS - 1));
  const [to, setTo] = useState(lenderToday);
  useEffect(() => {
    const timer = window.setTimeout(() => void validate(text).then(setValidation), 400);
    return () => window.clearTimeout(timer);
  }, [text]);
  const parsed = (): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const simulate = async (): Promise<void> => {
    const document = parsed();
    if (!document) return;
    const { data, error: failure } = await api.POST('/v1/strategies/{id}/simulate', {
      params: { path: { id: strategyId } },
      // A date is its whole day to the server (inclusive, on the lender's calendar): the day chosen, not the next.
      body: { from, to, document },
    });
    setError(failure ? errorOf(failure) : undefined);
    setReport(data as SimulationReport | undefined);
  };
  const save = async (): Promise<void> => {
    const document = parsed();
    if (!document) return;
    const { data, error: failure } = await api.POST('/v1/strategies', {
      body: document,
      params: { header: { 'idempotency-key': idempotencyKey() } },
    });
    setError(failure ? errorOf(failure) : undefined);
    const version = (data as { version?: number } | undefined)?.version;
    setSaved(version);
    onSaved();
  };
  const activate = async (): Promise<void> => {
    if (saved === undefined) return;
    const { error: failure } = await api.POST('/v1/strategies/{id}/activate', {
      params: { path: { id: strategyId }, header: { 'idempotency-key': idempotencyKey() } },
      body: { version: saved },
    });
    setError(failure ? errorOf(failure) : undefined);
    onSaved();
  };
  return (
    <section aria-labelledby="editor-title">
      <h2 id="editor-title">{t('editor')}</h2>
      <label htmlFor="strategy-text" className="sr-only">
        {t('editor')}
      </label>
      <textarea
        id="strategy-text"
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={18}
        spellCheck={false}
      />
      <p aria-live="polite" data-testid="validation">
        {validation === 'valid' ? <Badge value="ACTIVE" /> : null}{' '}
        {validation === 'valid' ? t('valid') : null}
        {validation && validation !== 'valid' ? (
          <span className="error">
            <code>{validation.code}</code> {validation.message}
          </span>
        ) : null}
      </p>
      <div className="row">
        <label htmlFor="sim-from">{t('from')}</label>
        <input id="sim-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <label htmlFor="sim-to">{t('to')}</label>
        <input id="sim-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        <button type="button" onClick={() => void simulate()} disabled={validation !== 'valid'}>
          {t('simulate')}
        </button>
        <button type="button" onClick={() => void save()} disabled={validation !== 'valid'}>
          {t('saveDraft')}
        </button>
        <button type="button" onClick={() => void activate()} disabled={saved === undefined}>
          {t('activate')} {saved !== undefined ? `v${saved}` : ''}
        </button>
      </div>
      <ErrorNote error={error} />
      {report && <SimulationView report={report} />}
    </section>
  );
}

async function validate(text: string): Promise<ApiError | 'valid'> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (e) {
    return { code: 'LG_BAD_JSON', message: e instanceof Error ? e.message : 'not JSON' };
  }
  const { error } = await api.POST('/v1/strategies/validate', { body: document as Record<string, never> });
  return error ? errorOf(error) : 'valid';
}

function SimulationView({ report }: { report: SimulationReport }): ReactNode {
  const { t, lang } = useI18n();
  // Every outcome, before and after, in the order the matrix is read (the schema names all six).
  const outcomes: readonly (keyof SimulationReport['outcomeMatrix'])[] = [
    'APPROVE',
    'CHALLENGE',
    'COOLDOWN',
    'DECLINE',
    'HOLD',
    'REVIEW',
  ];
  return (
    <section aria-labelledby="sim-title" data-testid="simulation">
      <h3 id="sim-title">{t('simulation')}</h3>
      <p>
        {report.decisions} · {t('changed')}: <strong data-testid="sim-changed">{report.changed}</strong> ·{' '}
        {t('approvalRate')} {formatPercent(report.approvalRate.before, lang)} →{' '}
        {formatPercent(report.approvalRate.after, lang)} · {t('freezeRate')}{' '}
        {formatPercent(report.freezeRate.before, lang)} → {formatPercent(report.freezeRate.after, lang)}
      </p>
      <p data-testid="sim-strategy">
        {t('strategyOwn')}: {t('changed')} {report.strategy.changed} · {t('approvalRate')}{' '}
        {formatPercent(report.strategy.approvalRate.before, lang)} →{' '}
        {formatPercent(report.strategy.approvalRate.after, lang)}
      </p>
      <table>
        <caption>
          {t('before')} ↓ / {t('after')} →
        </caption>
        <thead>
          <tr>
            <th scope="col" />
            {outcomes.map((o) => (
              <th key={o} scope="col">
                {o}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {outcomes.map((before) => (
            <tr key={before}>
              <th scope="row">{before}</th>
              {outcomes.map((after) => (
                <td key={after} className="num">
                  {report.outcomeMatrix[before][after]}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        DECLINE +{report.newlyDeclined.length} · FREEZE +{report.newlyFrozen.length}
      </p>
      {report.unreadable.count > 0 && (
        // Left out of every figure: the analyst must know the simulation did not cover the whole period.
        <p className="error" role="status" data-testid="sim-unreadable">
          {report.unreadable.count} {t('simUnreadable')}
          {report.unreadable.decisionIds.length > 0 && `: ${report.unreadable.decisionIds.join(', ')}`}
          {report.truncated && ' …'}
        </p>
      )}
      {report.missingFacts.count > 0 && (
        // Left out of every figure: the record cannot say what the candidate would have been handed.
        <p className="error" role="status" data-testid="sim-missing-facts">
          {report.missingFacts.count} {t('simMissingFacts')}:{' '}
          {Object.entries(report.missingFacts.inputs)
            .map(([input, n]) => `${input} (${n})`)
            .join(', ')}
          {report.missingFacts.decisionIds.length > 0 && ` — ${report.missingFacts.decisionIds.join(', ')}`}
          {report.truncated && ' …'}
        </p>
      )}
    </section>
  );
}
