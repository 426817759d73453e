import { useState, type FormEvent, type ReactNode } from 'react';
import { api, errorOf, idempotencyKey, storedKey, storeKey, type ApiError } from '../api/client';
import type { AppealView, LineExplanation } from '../api/views';
import { formatMoney, formatPercent, formatTime, useI18n } from '../i18n';
import { useLoad } from '../components/useLoad';
import { Badge, ErrorNote, Loading } from '../components/Status';

/**
 * What a lender embeds in its app (/borrower): the borrower's line in plain words, the reasons and what to do, in
 * Chinese or English, and the appeal and its outcome. Signed in with a short-lived borrower token that the lender's
 * backend mints (POST /v1/borrowers/{id}/tokens); the token sees only this borrower's data.
 */
export function BorrowerApp(): ReactNode {
  const [signedIn, setSignedIn] = useState(storedKey() !== null);
  return signedIn ? (
    <BorrowerHome onSignOut={() => (storeKey(null), setSignedIn(false))} />
  ) : (
    <TokenSignIn onSignedIn={() => setSignedIn(true)} />
  );
}

function LanguageToggle(): ReactNode {
  const { t, lang, toggle } = useI18n();
  return (
    <button
      type="button"
      className="link"
      onClick={toggle}
      lang={lang === 'zh' ? 'en' : 'zh-CN'}
      data-testid="lang-toggle"
    >
      {t('language')}
    </button>
  );
}

function TokenSignIn({ onSignedIn }: { onSignedIn: () => void }): ReactNode {
  const { t } = useI18n();
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError>();
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    storeKey(token.trim());
    const { error: failure } = await api.GET('/v1/me/lines');
    if (!failure) return onSignedIn();
    storeKey(null);
    setError(errorOf(failure));
  };
  return (
    <main id="main" className="signin">
      <h1>{t('borrowerView')}</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="borrower-token">{t('borrowerToken')}</label>
        <input
          id="borrower-token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <button type="submit">{t('signIn')}</button>
        <ErrorNote error={error} />
      </form>
      <LanguageToggle />
    </main>
  );
}

interface MyLine {
  id: string;
  status: string;
  currency: string;
  limitMinor: number;
  availableMinor: number;
  outstandingPrincipalMinor: number;
  annualRate: number;
}

function BorrowerHome({ onSignOut }: { onSignOut: () => void }): ReactNode {
  const { t, lang } = useI18n();
  const lines = useLoad(() => api.GET('/v1/me/lines'), []);
  const appeals = useLoad(() => api.GET('/v1/me/appeals', { params: { query: { lang } } }), [lang]);
  const items = (lines.data as { items?: MyLine[] } | undefined)?.items ?? [];
  const appealItems = (appeals.data as { items?: AppealView[] } | undefined)?.items ?? [];
  return (
    <main id="main" className="borrower">
      <header className="row">
        <h1>{t('borrowerView')}</h1>
        <LanguageToggle />
        <button type="button" className="link" onClick={onSignOut}>
          {t('signOut')}
        </button>
      </header>
      <Loading when={lines.loading} />
      <ErrorNote error={lines.error} />
      {items.map((line) => (
        <LineCard key={line.id} line={line} onAppealed={appeals.reload} />
      ))}
      <Complaints />
      <section className="card" aria-labelledby="my-appeals">
        <h2 id="my-appeals">{t('myAppeals')}</h2>
        <ul data-testid="my-appeals">
          {appealItems.map((a) => (
            <li key={a.id}>
              <Badge value={a.state} /> {t('deadline')}: {a.deadline ? formatTime(a.deadline, lang) : '—'}
              {a.outcome?.text ? <p>{String(a.outcome.text)}</p> : null}
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

function LineCard({ line, onAppealed }: { line: MyLine; onAppealed: () => void }): ReactNode {
  const { t, lang } = useI18n();
  const explanation = useLoad(
    () => api.GET('/v1/me/lines/{id}/explanation', { params: { path: { id: line.id }, query: { lang } } }),
    [line.id, lang],
  );
  const e = explanation.data as LineExplanation | undefined;
  const money = (minor: number): string => formatMoney(minor, line.currency, lang);
  return (
    <section className="card" aria-label={`${t('limit')} ${money(line.limitMinor)}`}>
      <p>
        <Badge value={line.status} /> <strong data-testid="status-text">{e?.statusText}</strong>
      </p>
      <dl className="facts">
        <dt>{t('limit')}</dt>
        <dd>{money(line.limitMinor)}</dd>
        <dt>{t('available')}</dt>
        <dd>{money(line.availableMinor)}</dd>
        <dt>{t('outstanding')}</dt>
        <dd>{money(line.outstandingPrincipalMinor)}</dd>
        <dt>{t('rate')}</dt>
        <dd>{formatPercent(line.annualRate, lang)}</dd>
      </dl>
      <ErrorNote error={explanation.error} />
      {e && (
        <>
          {e.summary && <p data-testid="summary">{e.summary}</p>}
          {e.reasons.length > 0 && (
            <>
              <h2>{t('reasons')}</h2>
              <ol data-testid="reasons">
                {e.reasons.map((r) => (
                  <li key={r.code}>{r.text}</li>
                ))}
              </ol>
            </>
          )}
          {e.whatToDo.length > 0 && (
            <>
              <h2>{t('whatToDo')}</h2>
              <ul>
                {e.whatToDo.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </>
          )}
          <p>{e.appeal.how}</p>
          {e.appeal.appealable && e.specifics.action && (e.openAppeals ?? []).length === 0 && (
            <AppealForm
              actionId={e.specifics.action.id}
              onFiled={() => (explanation.reload(), onAppealed())}
            />
          )}
        </>
      )}
    </section>
  );
}

function AppealForm({ actionId, onFiled }: { actionId: string; onFiled: () => void }): ReactNode {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [error, setError] = useState<ApiError>();
  const [key] = useState(idempotencyKey);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const { error: failure } = await api.POST('/v1/me/appeals', {
      params: { header: { 'idempotency-key': key } },
      body: { actionId, text },
    });
    setError(failure ? errorOf(failure) : undefined);
    if (!failure) onFiled();
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-label={t('appeal')}>
      <label htmlFor={`appeal-${actionId}`}>{t('yourText')}</label>
      <textarea
        id={`appeal-${actionId}`}
        rows={3}
        value={text}
        onChange={(e) => setText(e.target.value)}
        required
      />
      <button type="submit">{t('appeal')}</button>
      <ErrorNote error={error} />
    </form>
  );
}

type ComplaintCategory =
  'FEES_PRICING' | 'CLOSURE_OR_LIMIT' | 'COLLECTION' | 'PRIVACY' | 'CREDIT_REPORT' | 'FRAUD_SCAM' | 'SERVICE';
const CATEGORY_WORDS: Record<ComplaintCategory, { zh: string; en: string }> = {
  FEES_PRICING: { zh: '费用与定价', en: 'Fees and pricing' },
  CLOSURE_OR_LIMIT: { zh: '额度调整或关闭', en: 'Closure or limit' },
  COLLECTION: { zh: '催收', en: 'Collection' },
  PRIVACY: { zh: '个人信息', en: 'Privacy' },
  CREDIT_REPORT: { zh: '征信报告', en: 'Credit report' },
  FRAUD_SCAM: { zh: '欺诈或诈骗', en: 'Fraud or scam' },
  SERVICE: { zh: '服务', en: 'Service' },
};

interface ComplaintItem {
  id: string;
  category: string;
  state: string;
  dueAt: string;
  resolution?: { text?: string } | null;
}

/** A complaint is acknowledged at once with its deadline (15 days, extendable once) and answered in both languages. */
function Complaints(): ReactNode {
  const { t, lang } = useI18n();
  const list = useLoad(() => api.GET('/v1/me/complaints', { params: { query: { lang } } }), [lang]);
  const [category, setCategory] = useState<ComplaintCategory>('SERVICE');
  const [text, setText] = useState('');
  const [error, setError] = useState<ApiError>();
  const [key, setKey] = useState(idempotencyKey);
  const items = (list.data as { items?: ComplaintItem[] } | undefined)?.items ?? [];
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const { error: failure } = await api.POST('/v1/me/complaints', {
      params: { header: { 'idempotency-key': key } },
      body: { category, text },
    });
    setError(failure ? errorOf(failure) : undefined);
    if (failure) return;
    setText('');
    setKey(idempotencyKey());
    list.reload();
  };
  return (
    <section className="card" aria-labelledby="my-complaints">
      <h2 id="my-complaints">{t('myComplaints')}</h2>
      <form onSubmit={(e) => void submit(e)} aria-label={t('complaint')}>
        <label htmlFor="complaint-category">{t('category')}</label>{' '}
        <select
          id="complaint-category"
          value={category}
          onChange={(e) => setCategory(e.target.value as ComplaintCategory)}
        >
          {(Object.keys(CATEGORY_WORDS) as ComplaintCategory[]).map((c) => (
            <option key={c} value={c}>
              {CATEGORY_WORDS[c][lang]}
            </option>
          ))}
        </select>
        <label htmlFor="complaint-text">{t('yourText')}</label>
        <textarea
          id="complaint-text"
          rows={2}
          value={text}
          onChange={(e) => setText(e.target.value)}
          required
        />
        <button type="submit">{t('complaint')}</button>
        <ErrorNote error={error} />
      </form>
      <ul data-testid="my-complaints">
        {items.map((c) => (
          <li key={c.id}>
            <Badge value={c.state} /> {CATEGORY_WORDS[c.category as ComplaintCategory]?.[lang] ?? c.category}{' '}
            · {t('deadline')}: {formatTime(c.dueAt, lang)}
            {c.resolution?.text ? <p>{c.resolution.text}</p> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
