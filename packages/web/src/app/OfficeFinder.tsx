import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, ApiProblem } from '../shared/api.ts';
import { useLocale, useTranslate } from '../shared/i18n.tsx';
import { REGIONS } from '../shared/regions.ts';
import { appText } from './messages.ts';

interface Office {
  readonly id: string;
  readonly kind: 'public_services_center' | 'notary';
  readonly region: string;
  readonly name: string;
  readonly address: string;
}

interface Query {
  readonly region: string;
  readonly kind: string;
}

type State =
  | { readonly phase: 'idle' }
  | { readonly phase: 'loading' }
  | { readonly phase: 'done'; readonly items: readonly Office[]; readonly next: string | null }
  | { readonly phase: 'failed'; readonly reason: string };

function officesPath(query: Query, after?: string): string {
  const params = new URLSearchParams({ region: query.region, limit: '50' });
  if (query.kind) params.set('kind', query.kind);
  if (after) params.set('after', after);
  return `/api/v1/offices?${params}`;
}

export function OfficeFinder() {
  const t = useTranslate(appText);
  const { locale } = useLocale();
  const ids = { region: useId(), kind: useId() };
  const [region, setRegion] = useState('');
  const [kind, setKind] = useState('');
  const [query, setQuery] = useState<Query | null>(null);
  const [state, setState] = useState<State>({ phase: 'idle' });

  // Office names come translated from the server, so a language switch reloads them.
  useEffect(() => {
    if (!query) return;
    const controller = new AbortController();
    setState({ phase: 'loading' });
    api<{ items: Office[]; next: string | null }>(officesPath(query), { locale, signal: controller.signal }).then(
      (page) => setState({ phase: 'done', items: page.items, next: page.next }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ phase: 'failed', reason: error instanceof ApiProblem ? error.title : String(error) });
      },
    );
    return () => controller.abort();
  }, [query, locale]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (region) setQuery({ region, kind });
  };

  const loadMore = async () => {
    if (state.phase !== 'done' || !state.next || !query) return;
    try {
      const page = await api<{ items: Office[]; next: string | null }>(officesPath(query, state.next), { locale });
      setState({ phase: 'done', items: [...state.items, ...page.items], next: page.next });
    } catch (error) {
      setState({ phase: 'failed', reason: error instanceof ApiProblem ? error.title : String(error) });
    }
  };

  return (
    <section className="card" aria-labelledby="finder">
      <h2 id="finder">{t('finderTitle')}</h2>
      <form onSubmit={submit} className="row">
        <div className="field">
          <label htmlFor={ids.region}>{t('region')}</label>
          <select id={ids.region} value={region} required onChange={(e) => setRegion(e.target.value)}>
            <option value="">{t('chooseRegion')}</option>
            {Object.entries(REGIONS).map(([code, names]) => (
              <option key={code} value={code}>
                {names[locale]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.kind}>{t('kind')}</label>
          <select id={ids.kind} value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">{t('kindAll')}</option>
            <option value="public_services_center">{t('kind_public_services_center')}</option>
            <option value="notary">{t('kind_notary')}</option>
          </select>
        </div>
        <div className="field">
          <button type="submit">{t('search')}</button>
        </div>
      </form>
      <p role="status" aria-live="polite" className="hint">
        {state.phase === 'loading' && t('loading')}
        {state.phase === 'done' && (state.items.length > 0 ? t('found', { count: state.items.length }) : t('none'))}
      </p>
      {state.phase === 'failed' && <p className="alert" role="alert">{t('failed', { reason: state.reason })}</p>}
      {state.phase === 'done' && state.items.length > 0 && (
        <ul className="plain" aria-label={t('finderTitle')}>
          {state.items.map((office) => (
            <li key={office.id}>
              <strong>{office.name}</strong>
              <br />
              <span className="hint">
                {t(`kind_${office.kind}`)} · {office.address}
              </span>
            </li>
          ))}
        </ul>
      )}
      {state.phase === 'done' && state.next && (
        <button type="button" className="secondary" onClick={loadMore}>
          {t('more')}
        </button>
      )}
    </section>
  );
}
