import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, errorOf, storedKey, storeKey, type ApiError } from './api/client';
import { useI18n, type WordKey } from './i18n';
import { href, useHashRoute } from './router';
import { ErrorNote } from './components/Status';
import { learnServerTime } from './server-clock';
import { OverviewPage } from './pages/Overview';
import { QueuesPage, AlertPage } from './pages/Queues';
import { LinesPage, LinePage } from './pages/Lines';
import { StrategiesPage, StrategyPage } from './pages/Strategies';
import { LedgerPage } from './pages/Ledger';
import { PortfolioPage } from './pages/Portfolio';
import { CasePage, CasesPage, ChangesPage } from './pages/Cases';

export interface Session {
  readonly keyId: string;
  readonly role: string;
  /** Today on the lender's calendar (YYYY-MM-DD), the day the server's dates mean. */
  readonly lenderToday: string;
  /** The server's clock when the session was read (ISO). */
  readonly serverTime: string;
}

/** GET /v1/session, and the server's clock learnt from its answer (server-clock.ts). */
async function readSession() {
  const answer = await api.GET('/v1/session');
  if (answer.data) learnServerTime(answer.data.serverTime, Date.now());
  return answer;
}

/** What each role may change; pages hide the controls a role cannot use (the API refuses them anyway). */
export function can(session: Session, action: 'writeStrategy' | 'workAlerts' | 'writeOverlay'): boolean {
  if (session.role === 'admin') return true;
  if (action === 'writeStrategy' || action === 'writeOverlay') return session.role === 'risk_analyst';
  return session.role === 'risk_analyst' || session.role === 'analyst';
}

const PAGES: readonly { path: string; word: WordKey }[] = [
  { path: '', word: 'overview' },
  { path: 'queues', word: 'queues' },
  { path: 'cases', word: 'cases' },
  { path: 'changes', word: 'changes' },
  { path: 'lines', word: 'lines' },
  { path: 'strategies', word: 'strategies' },
  { path: 'portfolio', word: 'portfolio' },
  { path: 'ledger', word: 'ledger' },
];

export function ConsoleApp(): ReactNode {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  useEffect(() => {
    if (storedKey() === null) return;
    void readSession().then(({ data }) => {
      setSession(data ?? null);
      setChecking(false);
    });
  }, []);
  if (checking) return null;
  if (!session) return <SignIn onSignedIn={setSession} />;
  return (
    <Shell session={session} onSignOut={() => (storeKey(null), setSession(null))}>
      <Page session={session} />
    </Shell>
  );
}

function LanguageButton(): ReactNode {
  const { t, lang, toggle } = useI18n();
  // The visible name is the other language's own name, marked with its language for screen readers.
  return (
    <button
      type="button"
      className="link"
      onClick={toggle}
      title={t('languageLabel')}
      lang={lang === 'zh' ? 'en' : 'zh-CN'}
      data-testid="lang-toggle"
    >
      {t('language')}
    </button>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }): ReactNode {
  const { t } = useI18n();
  const [key, setKey] = useState('');
  const [error, setError] = useState<ApiError>();
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    storeKey(key.trim());
    const { data, error: failure } = await readSession();
    if (data) return onSignedIn(data);
    storeKey(null);
    setError(errorOf(failure));
  };
  return (
    <main id="main" className="signin">
      <h1>{t('appName')}</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="api-key">{t('apiKey')}</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
        />
        <p className="hint">{t('apiKeyHelp')}</p>
        <button type="submit">{t('signIn')}</button>
        <ErrorNote error={error} />
      </form>
      <LanguageButton />
    </main>
  );
}

function Shell({
  session,
  onSignOut,
  children,
}: {
  session: Session;
  onSignOut: () => void;
  children: ReactNode;
}): ReactNode {
  const { t } = useI18n();
  const [first = ''] = useHashRoute();
  return (
    <>
      <a className="skip" href="#main">
        {t('skipToContent')}
      </a>
      <header className="top">
        <strong>{t('appName')}</strong>
        <nav aria-label={t('appName')}>
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={href(p.path)} aria-current={first === p.path ? 'page' : undefined}>
                  {t(p.word)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who" data-testid="who">
          {t('signedInAs')}: <code>{session.keyId.slice(0, 8)}</code> · {t('role')}:{' '}
          <strong>{session.role}</strong>
        </span>
        <LanguageButton />
        <button type="button" className="link" onClick={onSignOut}>
          {t('signOut')}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function Page({ session }: { session: Session }): ReactNode {
  const [first = '', second] = useHashRoute();
  if (first === 'queues' && second) return <AlertPage alertId={second} session={session} />;
  if (first === 'queues') return <QueuesPage />;
  if (first === 'cases' && second) return <CasePage caseId={second} session={session} />;
  if (first === 'cases') return <CasesPage />;
  if (first === 'changes') return <ChangesPage session={session} />;
  if (first === 'lines' && second) return <LinePage lineId={second} />;
  if (first === 'lines') return <LinesPage />;
  if (first === 'strategies' && second) return <StrategyPage strategyId={second} session={session} />;
  if (first === 'strategies') return <StrategiesPage />;
  if (first === 'ledger') return <LedgerPage />;
  if (first === 'portfolio') return <PortfolioPage />;
  return <OverviewPage />;
}
