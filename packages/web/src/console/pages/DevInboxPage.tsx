import { useId, useState, type FormEvent } from 'react';
import { useTranslate } from '../../shared/i18n.tsx';
import { consoleText } from '../messages.ts';
import { useOperatorApi } from '../session.tsx';
import { ErrorMessage, PageTitle, Status, useFormat } from '../ui.tsx';

interface DevMessage {
  readonly id: string;
  readonly recipient: string;
  readonly kind: string;
  readonly text: string;
  readonly createdAt: number;
}

/** DEVELOPMENT ONLY: texts the development SMS channel stored instead of sending. */
export function DevInboxPage() {
  const t = useTranslate(consoleText);
  const f = useFormat();
  const call = useOperatorApi();
  const ids = { recipient: useId(), hint: useId() };
  const [recipient, setRecipient] = useState('+998');
  const [messages, setMessages] = useState<readonly DevMessage[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const load = async (event?: FormEvent) => {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const query = new URLSearchParams({ recipient: recipient.replace(/[\s()-]/g, ''), limit: '20' });
      setMessages((await call<{ items: DevMessage[] }>(`/api/v1/dev/messages?${query}`)).items);
    } catch (e) {
      setError(e);
      setMessages(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title={t('devTitle')}>{t('devTitle')}</PageTitle>
      <p className="dev-banner" role="note">
        {t('devBanner')}
      </p>
      <form className="card" onSubmit={load}>
        <div className="field">
          <label htmlFor={ids.recipient}>{t('recipient')}</label>
          <input id={ids.recipient} type="tel" autoComplete="off" value={recipient} aria-describedby={ids.hint} onChange={(e) => setRecipient(e.target.value)} />
          <p id={ids.hint} className="hint">
            {t('phoneHint')}
          </p>
        </div>
        <button type="submit" disabled={busy}>
          {messages ? t('refresh') : t('showMessages')}
        </button>
        <Status>{busy ? t('loading') : messages && messages.length === 0 ? t('noMessages') : ''}</Status>
        <ErrorMessage error={error} />
      </form>
      {messages && messages.length > 0 && (
        <section className="card" aria-label={t('devTitle')}>
          <ul className="plain">
            {messages.map((m) => (
              <li key={m.id}>
                <span className="hint">
                  {f.time(new Date(m.createdAt).toISOString())} · {m.recipient} · {m.kind}
                </span>
                <p data-testid="dev-sms-text">{m.text}</p>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
