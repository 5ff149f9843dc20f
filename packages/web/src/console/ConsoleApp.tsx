import { useEffect, useMemo, useState } from 'react';
import { api, ApiProblem } from '../shared/api.ts';
import { useLocale, useTranslate } from '../shared/i18n.tsx';
import { LanguageSwitcher } from '../shared/LanguageSwitcher.tsx';
import { consoleText } from './messages.ts';
import { ConsoleProvider, useConsole, type ConsoleState } from './session.tsx';
import { Link, navigate, useLocation } from './router.tsx';
import type { Session } from './types.ts';
import { ErrorMessage, Status } from './ui.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { RegisterPage } from './pages/RegisterPage.tsx';
import { SearchPage } from './pages/SearchPage.tsx';
import { CitizenPage } from './pages/CitizenPage.tsx';
import { DevInboxPage } from './pages/DevInboxPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { OperatorsPage } from './pages/OperatorsPage.tsx';
import { ClientPage, ClientsPage } from './pages/ClientsPage.tsx';

type Boot = { readonly phase: 'loading' } | { readonly phase: 'failed'; readonly error: unknown } | { readonly phase: 'ready' };

export function ConsoleApp() {
  const { locale } = useLocale();
  const t = useTranslate(consoleText);
  const [boot, setBoot] = useState<Boot>({ phase: 'loading' });
  const [development, setDevelopment] = useState(false);
  const [session, setSession] = useState<Session | null>(null);

  useEffect(() => {
    let live = true;
    (async () => {
      const runtime = await api<{ development: boolean }>('/api/v1/web/runtime', { locale });
      let found: Session | null = null;
      try {
        found = await api<Session>('/api/v1/operator/session', { locale });
      } catch (error) {
        if (!(error instanceof ApiProblem && error.status === 401)) throw error;
      }
      if (!live) return;
      setDevelopment(runtime.development);
      setSession(found);
      setBoot({ phase: 'ready' });
    })().catch((error: unknown) => live && setBoot({ phase: 'failed', error }));
    return () => {
      live = false;
    };
    // Only at start: a language switch must not sign anyone out or reload the session.
  }, []);

  const state: ConsoleState = useMemo(() => ({ development, session, setSession }), [development, session]);

  return (
    <ConsoleProvider value={state}>
      <a className="skip-link" href="#main">
        {t('skip')}
      </a>
      <Header />
      <main id="main">
        {boot.phase === 'loading' && <Status>{t('loading')}</Status>}
        {boot.phase === 'failed' && <ErrorMessage error={boot.error} />}
        {boot.phase === 'ready' && <Routes />}
      </main>
    </ConsoleProvider>
  );
}

function Header() {
  const t = useTranslate(consoleText);
  const { session, setSession, development } = useConsole();
  const { locale } = useLocale();
  const [error, setError] = useState<unknown>(null);
  const signOut = async () => {
    try {
      await api('/api/v1/operator/sign-out', { method: 'POST', body: {}, locale, csrf: session?.csrfToken });
    } catch (e) {
      // An expired session is signed out already; anything else is worth showing.
      if (!(e instanceof ApiProblem && e.status === 401)) {
        setError(e);
        return;
      }
    }
    setSession(null);
    navigate('/');
  };
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <Link to="/" className="brand">
          {t('brand')}
        </Link>
        {session && (
          <nav aria-label={t('navMain')}>
            <ul>
              <li>
                <Link to="/">{t('navSearch')}</Link>
              </li>
              {session.operator.role === 'admin' && (
                <li>
                  <Link to="/operators">{t('navOperators')}</Link>
                </li>
              )}
              {session.operator.role === 'admin' && (
                <li>
                  <Link to="/clients">{t('navClients')}</Link>
                </li>
              )}
              {development && (
                <li>
                  <Link to="/dev/sms">{t('navDevInbox')}</Link>
                </li>
              )}
            </ul>
          </nav>
        )}
        {session && (
          <span className="who">
            {t('signedInAs', { name: session.operator.name, role: t(`role_${session.operator.role}`) })}
            {session.office ? ` · ${session.office.name}` : ''}
          </span>
        )}
        {session && (
          <button type="button" className="secondary" onClick={signOut}>
            {t('signOut')}
          </button>
        )}
        <LanguageSwitcher />
      </div>
      {error !== null && <ErrorMessage error={error} />}
    </header>
  );
}

function Routes() {
  const { path, query } = useLocation();
  const { session, development } = useConsole();
  if (path === '/register') return <RegisterPage token={query.get('token')} />;
  if (!session) return <SignInPage />;
  if (path === '/') return <SearchPage />;
  const citizen = /^\/citizens\/(cit_[A-Za-z0-9_-]{1,64})$/.exec(path);
  if (citizen) return <CitizenPage key={citizen[1]} citizenId={citizen[1]!} />;
  if (path === '/dev/sms' && development) return <DevInboxPage />;
  if (path === '/operators' && session.operator.role === 'admin') return <OperatorsPage />;
  if (path === '/clients' && session.operator.role === 'admin') return <ClientsPage />;
  const client = /^\/clients\/([a-z0-9][a-z0-9._-]{2,63})$/.exec(path);
  if (client && session.operator.role === 'admin') return <ClientPage key={client[1]} clientId={client[1]!} justRegistered={query.has('registered')} />;
  return <NotFoundPage />;
}
