import { useEffect, useRef, useState } from 'react';
import type { DeviceClient, ServiceConsent } from '@tasdiq/client';
import { useLocale, useTranslate } from '../../shared/i18n.tsx';
import { consentText, KNOWN_SCOPES, type ConsentKey } from './consent-messages.ts';
import { describeProblem, problemText } from './problem-messages.ts';

const KNOWN = new Set<string>(KNOWN_SCOPES);

/**
 * The services the citizen allowed to receive their data (issue 5), each with its claims in
 * plain words and a withdrawal that asks first. Withdrawing ends the service's tokens on the
 * server. `onSigned` stores the moved counter after each signed request.
 */
export function Consents({ client, onSigned }: { client: DeviceClient; onSigned: () => Promise<unknown> }) {
  const t = useTranslate(consentText);
  const tp = useTranslate(problemText);
  const { locale } = useLocale();
  const [items, setItems] = useState<ServiceConsent[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [busy, setBusy] = useState(false);
  // Bumped when the app comes back into view: a consent is usually given on the other screen.
  const [freshness, setFreshness] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const confirmYes = useRef<HTMLButtonElement>(null);
  // The latest callback, without reloading the list each time the parent renders.
  const signed = useRef(onSigned);
  signed.current = onSigned;

  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') setFreshness((n) => n + 1);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, []);

  useEffect(() => {
    let stopped = false;
    client.consents(locale)
      .then(
        (found) => {
          if (!stopped) setItems(found);
        },
        (error: unknown) => {
          if (!stopped) setProblem(describeProblem(error, tp));
        },
      )
      .finally(() => void signed.current());
    return () => {
      stopped = true;
    };
  }, [client, locale, freshness, tp]);

  // Where the keyboard goes once the confirmation closes: back to its row's button.
  const returnFocus = useRef<string | null>(null);
  useEffect(() => {
    if (confirming) confirmYes.current?.focus();
    else if (returnFocus.current) document.getElementById(`withdraw-${returnFocus.current}`)?.focus();
    returnFocus.current = null;
  }, [confirming]);

  async function withdraw(consent: ServiceConsent) {
    setBusy(true);
    try {
      await client.withdrawConsent(consent.clientId);
      setItems((list) => (list ?? []).filter((c) => c.clientId !== consent.clientId));
      setAnnouncement(t('withdrawn', { service: consent.name }));
    } catch (error) {
      setAnnouncement(t('withdrawFailed', { reason: describeProblem(error, tp) }));
    } finally {
      await signed.current();
      setConfirming(null);
      setBusy(false);
      // The row and its buttons are gone: the section heading keeps the keyboard user's place.
      heading.current?.focus();
    }
  }

  function cancel(clientId: string) {
    returnFocus.current = clientId;
    setConfirming(null);
  }

  const scopeText = (scope: string) => (KNOWN.has(scope) ? t(`scope_${scope}` as ConsentKey) : t('scope_other', { scope }));

  return (
    <section aria-labelledby="consents-title">
      <h3 id="consents-title" ref={heading} tabIndex={-1}>
        {t('consentsTitle')}
      </h3>
      <p className="hint">{t('consentsIntro')}</p>
      <p id="consents-announcement" aria-live="polite" aria-atomic="true">
        {announcement}
      </p>
      {problem && <p className="hint">{t('consentsFailed', { reason: problem })}</p>}
      {!problem && items === null && <p className="hint">{t('consentsLoading')}</p>}
      {items && items.length === 0 && <p className="hint">{t('consentsEmpty')}</p>}
      {items && items.length > 0 && (
        <ul aria-labelledby="consents-title">
          {items.map((c) => (
            <li key={c.clientId} data-client-id={c.clientId}>
              <h4 id={`consent-${c.clientId}`}>{c.name}</h4>
              <p className="hint">{t('allowedSince', { when: new Date(c.grantedAt).toLocaleString(locale) })}</p>
              <ul aria-label={`${c.name}: ${t('allowedClaims')}`}>
                {c.scopes.map((s) => (
                  <li key={s}>{scopeText(s)}</li>
                ))}
              </ul>
              {confirming === c.clientId ? (
                <div role="group" aria-labelledby={`confirm-${c.clientId}`}>
                  <p id={`confirm-${c.clientId}`}>{t('confirmWithdraw', { service: c.name })}</p>
                  <div className="actions">
                    <button type="button" ref={confirmYes} disabled={busy} onClick={() => void withdraw(c)}>
                      {t('withdrawYes')}
                    </button>
                    <button type="button" disabled={busy} onClick={() => cancel(c.clientId)}>
                      {t('withdrawNo')}
                    </button>
                  </div>
                </div>
              ) : (
                <button
                  type="button"
                  id={`withdraw-${c.clientId}`}
                  aria-label={t('withdrawNamed', { service: c.name })}
                  disabled={busy}
                  onClick={() => setConfirming(c.clientId)}
                >
                  {t('withdraw')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
