import { useState } from 'react';
import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';
import { api } from '../../shared/api.ts';
import { useLocale, useTranslate } from '../../shared/i18n.tsx';
import { consoleText } from '../messages.ts';
import { sessionAfterSignIn, useConsole } from '../session.tsx';
import type { Session } from '../types.ts';
import { ErrorMessage, PageTitle, Status } from '../ui.tsx';

export function SignInPage() {
  const t = useTranslate(consoleText);
  const { locale } = useLocale();
  const { setSession } = useConsole();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const supported = browserSupportsWebAuthn();

  const signIn = async () => {
    setBusy(true);
    setError(null);
    try {
      const { challengeId, options } = await api<{ challengeId: string; options: Parameters<typeof startAuthentication>[0]['optionsJSON'] }>(
        '/api/v1/operator/auth/options',
        { locale, body: {} },
      );
      const response = await startAuthentication({ optionsJSON: options });
      const answer = await api<Session>('/api/v1/operator/auth/verify', { locale, body: { challengeId, response } });
      setSession(await sessionAfterSignIn(answer, locale));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card">
      <PageTitle title={t('signInTitle')}>{t('signInTitle')}</PageTitle>
      <p>{t('signInIntro')}</p>
      {supported ? (
        <button type="button" onClick={signIn} disabled={busy}>
          {t('signInButton')}
        </button>
      ) : (
        <p className="alert" role="alert">
          {t('noWebAuthn')}
        </p>
      )}
      <Status>{busy ? t('signingIn') : ''}</Status>
      <ErrorMessage error={error} />
    </section>
  );
}
