import { useEffect, useRef, useState } from 'react';
import type { DeviceClient, HistoryItem } from '@tasdiq/client';
import { useLocale, useTranslate } from '../../shared/i18n.tsx';
import { historyText, RESULTS, type HistoryKey } from './history-messages.ts';
import { officeText, type OfficeKey } from './office-messages.ts';
import { describeProblem, problemText } from './problem-messages.ts';

const PAGE = 20;
const KNOWN_RESULTS = new Set<string>(RESULTS);
const OFFICE_ACTIONS = new Set(['created', 'binding_started', 'phone_bound', 'rebind_started', 'phone_rebound', 'activation_code_issued', 'suspended', 'resumed', 'revoked']);

/**
 * The citizen's history from the server (`GET /api/v1/device/history`): every sign-in and
 * signature in their name, whichever phone answered, with devices and enrollment changes.
 * Reloaded when `freshness` changes (after an answer), when the language changes (office and
 * service names), and when the app comes back into view.
 */
export function History({ client, onSigned, freshness }: { client: DeviceClient; onSigned: () => Promise<unknown>; freshness: number }) {
  const t = useTranslate(historyText);
  const to = useTranslate(officeText);
  const tp = useTranslate(problemText);
  const { locale } = useLocale();
  const [items, setItems] = useState<readonly HistoryItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [visible, setVisible] = useState(0);
  const signed = useRef(onSigned);
  signed.current = onSigned;
  const firstNew = useRef<string | null>(null);

  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') setVisible((n) => n + 1);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, []);

  useEffect(() => {
    let stopped = false;
    client
      .history({ limit: PAGE })
      .then(
        (page) => {
          if (stopped) return;
          setItems(page.items);
          setNext(page.next);
          setProblem(null);
        },
        (error: unknown) => {
          if (!stopped) setProblem(error);
        },
      )
      .finally(() => void signed.current());
    return () => {
      stopped = true;
    };
  }, [client, locale, freshness, visible]);

  // After "show older", the keyboard moves to the first of the entries just added.
  useEffect(() => {
    if (!firstNew.current) return;
    document.getElementById(`history-${firstNew.current}`)?.focus();
    firstNew.current = null;
  }, [items]);

  async function more() {
    if (!next) return;
    setLoadingMore(true);
    try {
      const page = await client.history({ limit: PAGE, before: next });
      firstNew.current = page.items[0]?.id ?? null;
      setItems((list) => [...(list ?? []), ...page.items]);
      setNext(page.next);
    } catch (error) {
      setProblem(error);
    } finally {
      await signed.current();
      setLoadingMore(false);
    }
  }

  const resultText = (result: string | null) => t(result && KNOWN_RESULTS.has(result) ? (`result_${result}` as HistoryKey) : 'result_OTHER');

  function describe(item: HistoryItem): string {
    const service = item.service ?? '—';
    if (item.type === 'sign_in' || item.type === 'signature') {
      const what = item.type === 'signature' ? t('signature', { service, document: item.documentName ?? '—' }) : t('signIn', { service });
      const via = item.mode === 'device_link' ? ` (${t('viaQr')})` : item.mode === 'sms_otp' ? ` (${t('viaSms')})` : '';
      return `${what}${via} — ${resultText(item.result)}`;
    }
    if (item.action === 'device.activated') return t(item.thisDevice ? 'activatedHere' : 'activatedElsewhere');
    if (item.action === 'device.revoked') return t('deviceRemoved');
    const short = item.action.replace(/^enrollment\./, '');
    const action = to(OFFICE_ACTIONS.has(short) ? (`action_${short}` as OfficeKey) : 'action_other');
    return item.office ? `${action} — ${item.office}` : action;
  }

  return (
    <section aria-labelledby="history-title">
      <h3 id="history-title">{t('historyTitle')}</h3>
      <p className="hint">{t('historyIntro')}</p>
      {problem !== null && <p className="hint">{t('historyFailed', { reason: describeProblem(problem, tp) })}</p>}
      {problem === null && items === null && <p className="hint">{t('historyLoading')}</p>}
      {items && items.length === 0 && <p className="hint">{t('historyEmpty')}</p>}
      {items && items.length > 0 && (
        <ul aria-label={t('historyTitle')} className="plain">
          {items.map((item) => (
            <li key={item.id} id={`history-${item.id}`} tabIndex={-1}>
              <time dateTime={item.at}>{new Date(item.at).toLocaleString(locale)}</time> — {describe(item)}
            </li>
          ))}
        </ul>
      )}
      {next && (
        <button type="button" className="secondary" disabled={loadingMore} onClick={() => void more()}>
          {loadingMore ? t('historyLoadingMore') : t('historyMore')}
        </button>
      )}
    </section>
  );
}
