import { useEffect, useState } from 'react';
import { api } from '../shared/api.ts';
import { useLocale, type Locale } from '../shared/i18n.tsx';

export interface OfficeSummary {
  readonly id: string;
  readonly kind: string;
  readonly region: string;
  readonly name: string;
}

const cache = new Map<Locale, Promise<readonly OfficeSummary[]>>();

async function fetchAll(locale: Locale): Promise<readonly OfficeSummary[]> {
  const all: OfficeSummary[] = [];
  let after: string | null = null;
  // A country has some hundreds of offices; paging stops at the API's `next: null`.
  for (let page = 0; page < 50; page++) {
    const query = new URLSearchParams({ limit: '100' });
    if (after) query.set('after', after);
    const answer: { items: OfficeSummary[]; next: string | null } = await api(`/api/v1/offices?${query}`, { locale });
    all.push(...answer.items);
    after = answer.next;
    if (!after) break;
  }
  return all;
}

/** Office names in the reader's language, so screens show names instead of ids. */
export function useOffices(): readonly OfficeSummary[] {
  const { locale } = useLocale();
  const [offices, setOffices] = useState<readonly OfficeSummary[]>([]);
  useEffect(() => {
    let live = true;
    let pending = cache.get(locale);
    if (!pending) {
      pending = fetchAll(locale);
      cache.set(locale, pending);
      pending.catch(() => cache.delete(locale));
    }
    pending.then(
      (list) => live && setOffices(list),
      // Names are a nicety: without them the ids are shown.
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [locale]);
  return offices;
}

export function useOfficeName(): (id: string | null | undefined) => string {
  const offices = useOffices();
  return (id) => (id ? (offices.find((o) => o.id === id)?.name ?? id) : '—');
}
