import { useEffect, useRef, useState } from 'react';
import type { DeviceClient } from '@tasdiq/client';
import { useLocale, useTranslate } from '../../shared/i18n.tsx';
import { officeText, type OfficeKey } from './office-messages.ts';
import { describeProblem, problemText } from './problem-messages.ts';

interface OfficeEvent {
  readonly at: string;
  readonly action: string;
  readonly office: { readonly id: string; readonly kind: string; readonly name: string };
  readonly reason: string | null;
}

const KNOWN = new Set(['created', 'binding_started', 'phone_bound', 'rebind_started', 'phone_rebound', 'activation_code_issued', 'suspended', 'resumed', 'revoked']);

/**
 * Which office enrolled or changed the citizen (issue 3), read from the server with a signed
 * request; `onSigned` stores the moved counter. Reloaded when the language changes, since the
 * server names offices in the language asked for.
 */
export function OfficeHistory({ client, onSigned }: { client: DeviceClient; onSigned: () => Promise<unknown> }) {
  const t = useTranslate(officeText);
  const tp = useTranslate(problemText);
  const { locale } = useLocale();
  const [events, setEvents] = useState<OfficeEvent[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // The latest callback, without reloading the history each time the parent renders.
  const signed = useRef(onSigned);
  signed.current = onSigned;

  useEffect(() => {
    let stopped = false;
    client
      .request<{ items: OfficeEvent[] }>('GET', `/api/v1/me/offices?lang=${encodeURIComponent(locale)}`)
      .then(
        (answer) => {
          if (!stopped) setEvents(answer.items);
        },
        (error: unknown) => {
          if (!stopped) setProblem(describeProblem(error, tp));
        },
      )
      .finally(() => void signed.current());
    return () => {
      stopped = true;
    };
  }, [client, locale, tp]);

  const actionText = (action: string) => {
    const short = action.replace(/^enrollment\./, '');
    return t(KNOWN.has(short) ? (`action_${short}` as OfficeKey) : 'action_other');
  };

  return (
    <>
      <h3 id="offices-title">{t('officesTitle')}</h3>
      {problem && <p className="hint">{t('officesFailed', { reason: problem })}</p>}
      {events && events.length === 0 && <p className="hint">{t('officesEmpty')}</p>}
      {events && events.length > 0 && (
        <ul aria-labelledby="offices-title">
          {events.map((e, i) => (
            <li key={`${e.at}-${i}`}>
              {new Date(e.at).toLocaleString(locale)} — {e.office.name} — {actionText(e.action)}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
