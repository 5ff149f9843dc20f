import { useEffect, useState } from 'react';
import { startRegistration } from '@simplewebauthn/browser';
import { api } from '../../shared/api.ts';
import { useLocale, useTranslate } from '../../shared/i18n.tsx';
import { consoleText } from '../messages.ts';
import { sessionAfterSignIn, useConsole } from '../session.tsx';
import { navigate } from '../router.tsx';
import type { Operator, Session } from '../types.ts';
import { ErrorMessage, PageTitle, Status } from '../ui.tsx';
import { useOfficeName } from '../offices.ts';

type CreationOptions = Parameters<typeof startRegistration>[0]['optionsJSON'];

export function RegisterPage({ token }: { token: string | null }) {
  const t = useTranslate(consoleText);
  const { locale } = useLocale();
  const { setSession } = useConsole();
  const officeName = useOfficeName();
  const [invitation, setInvitation] = useState<{ operator: Operator; options: CreationOptions } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  // The options carry a single-use challenge, so they are fetched once per visit.
  useEffect(() => {
    if (!token) return;
    let live = true;
    api<{ operator: Operator; options: CreationOptions }>('/api/v1/operator/register/options', { locale, body: { token } }).then(
      (answer) => live && setInvitation(answer),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
    // The language may change while the invitation is open; the challenge must not.
  }, [token]);

  const register = async () => {
    if (!token || !invitation) return;
    setBusy(true);
    setError(null);
    try {
      const response = await startRegistration({ optionsJSON: invitation.options });
      const session = await api<Session>('/api/v1/operator/register/verify', { locale, body: { token, response } });
      setSession(await sessionAfterSignIn(session, locale));
      navigate('/', { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card">
      <PageTitle title={t('registerTitle')}>{t('registerTitle')}</PageTitle>
      {!token && (
        <p className="alert" role="alert">
          {t('registerNoToken')}
        </p>
      )}
      {token && !invitation && !error && <Status>{t('registerChecking')}</Status>}
      {invitation && (
        <>
          <p>
            {t('registerIntro', {
              name: invitation.operator.name,
              role: t(`role_${invitation.operator.role}`),
              office: officeName(invitation.operator.officeId),
            })}
          </p>
          <button type="button" onClick={register} disabled={busy}>
            {t('registerButton')}
          </button>
          <Status>{busy ? t('registering') : ''}</Status>
        </>
      )}
      <ErrorMessage error={error} />
    </section>
  );
}
