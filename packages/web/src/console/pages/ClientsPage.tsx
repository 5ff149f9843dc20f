import { useCallback, useEffect, useId, useState } from 'react';
import { ApiProblem } from '../../shared/api.ts';
import { useLocale, useTranslate } from '../../shared/i18n.tsx';
import { Link, navigate } from '../router.tsx';
import { ErrorMessage, PageTitle, Status, useFormat } from '../ui.tsx';
import { ClientFormView } from './ClientForm.tsx';
import { emptyForm, formOf, useAdminApi, type RelyingParty } from './clients-api.ts';
import { clientsText } from './clients-text.ts';
import { consoleText } from '../messages.ts';

const BASE = '/api/v1/admin/clients';

function shortAcr(acr: string): string {
  return acr.replace(/^urn:tasdiq:acr:/, '');
}

/** Relying parties (admins only): the registered services, and a form to register another. */
export function ClientsPage() {
  const t = useTranslate(clientsText);
  const tc = useTranslate(consoleText);
  const f = useFormat();
  const { locale } = useLocale();
  const call = useAdminApi();
  const ids = { list: useId(), register: useId() };
  const [clients, setClients] = useState<readonly RelyingParty[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (after: string | null) => {
      try {
        const page = await call<{ items: RelyingParty[]; next: string | null }>(`${BASE}?limit=50${after ? `&after=${encodeURIComponent(after)}` : ''}`);
        setClients((current) => (after && current ? [...current, ...page.items] : page.items));
        setNext(page.next);
      } catch (e) {
        setError(e);
      }
    },
    [call],
  );

  useEffect(() => {
    void load(null);
    // Loaded once per visit.
  }, []);

  const register = async (document: Record<string, unknown>): Promise<unknown> => {
    setBusy(true);
    try {
      const created = await call<RelyingParty>(BASE, { method: 'POST', body: document });
      navigate(`/clients/${created.clientId}?registered=1`);
      return null;
    } catch (e) {
      return e;
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title={t('clientsTitle')}>{t('clientsTitle')}</PageTitle>
      <p>{t('clientsIntro')}</p>
      <section className="card" aria-labelledby={ids.list}>
        <h2 id={ids.list}>{t('listTitle')}</h2>
        <ErrorMessage error={error} />
        {clients === null ? (
          <Status>{tc('loading')}</Status>
        ) : clients.length === 0 ? (
          <p>{t('noClients')}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('colName')}</th>
                  <th scope="col">{t('colClientId')}</th>
                  <th scope="col">{t('colStatus')}</th>
                  <th scope="col">{t('colScopes')}</th>
                  <th scope="col">{t('colAcr')}</th>
                  <th scope="col">{t('colCreated')}</th>
                </tr>
              </thead>
              <tbody>
                {clients.map((c) => (
                  <tr key={c.clientId} data-client-id={c.clientId}>
                    <td>
                      <Link to={`/clients/${c.clientId}`}>{c.name[locale]}</Link>
                    </td>
                    <td>
                      <code>{c.clientId}</code>
                    </td>
                    <td className={`client-status-${c.status}`}>{t(`status_${c.status}`)}</td>
                    <td>{c.scopes.join(' ')}</td>
                    <td>{c.acrValues.map(shortAcr).join(', ')}</td>
                    <td>{f.time(c.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {next && (
          <button type="button" className="secondary" onClick={() => void load(next)}>
            {t('more')}
          </button>
        )}
      </section>
      <section className="card" aria-labelledby={ids.register}>
        <h2 id={ids.register}>{t('registerTitle')}</h2>
        <ClientFormView mode="register" initial={emptyForm()} busy={busy} onSubmit={register} />
      </section>
    </>
  );
}

/** One relying party: its registration, enable/disable, and the edit form (over the version loaded). */
export function ClientPage({ clientId, justRegistered }: { clientId: string; justRegistered: boolean }) {
  const t = useTranslate(clientsText);
  const tc = useTranslate(consoleText);
  const f = useFormat();
  const { locale } = useLocale();
  const call = useAdminApi();
  const ids = { facts: useId(), status: useId(), edit: useId() };
  const [client, setClient] = useState<RelyingParty | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  // A new form (its fields from the server) after each load and save, not after enable/disable.
  const [formKey, setFormKey] = useState(0);
  const [busy, setBusy] = useState(false);
  const [statusBusy, setStatusBusy] = useState(false);
  const [statusError, setStatusError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [saved, setSaved] = useState('');
  const [conflict, setConflict] = useState(false);

  const load = useCallback(async () => {
    try {
      setClient(await call<RelyingParty>(`${BASE}/${encodeURIComponent(clientId)}`));
      setFormKey((k) => k + 1);
      setConflict(false);
    } catch (e) {
      setLoadError(e);
    }
  }, [call, clientId]);

  useEffect(() => {
    void load();
    // Loaded once per visit; the reload button loads it again.
  }, []);

  useEffect(() => {
    if (client && justRegistered) setNotice(t('registered', { name: client.name[locale] }));
    // Said once, when the registration has just been created.
  }, [client?.clientId]);

  const save = async (document: Record<string, unknown>): Promise<unknown> => {
    if (!client) return null;
    setBusy(true);
    setSaved('');
    try {
      const updated = await call<RelyingParty>(`${BASE}/${encodeURIComponent(clientId)}`, {
        method: 'PUT',
        body: document,
        headers: { 'if-match': `"${client.version}"` },
      });
      setSaved(updated.version === client.version ? t('unchanged') : t('saved', { version: updated.version }));
      setClient(updated);
      setFormKey((k) => k + 1);
      return null;
    } catch (e) {
      if (e instanceof ApiProblem && e.code === 'client_version_conflict') setConflict(true);
      return e;
    } finally {
      setBusy(false);
    }
  };

  const setStatus = async (action: 'disable' | 'enable') => {
    if (!client) return;
    setStatusBusy(true);
    setStatusError(null);
    setNotice('');
    try {
      const updated = await call<RelyingParty>(`${BASE}/${encodeURIComponent(clientId)}/${action}`, { method: 'POST', body: {} });
      setClient(updated);
      setNotice(t(action === 'disable' ? 'disabledNotice' : 'enabledNotice', { name: updated.name[locale] }));
    } catch (e) {
      setStatusError(e);
    } finally {
      setStatusBusy(false);
    }
  };

  if (!client) {
    return (
      <>
        <PageTitle title={t('clientsTitle')}>{t('clientsTitle')}</PageTitle>
        <p>
          <Link to="/clients">{t('backToList')}</Link>
        </p>
        {loadError ? <ErrorMessage error={loadError} /> : <Status>{tc('loading')}</Status>}
      </>
    );
  }

  const title = t('clientTitle', { name: client.name[locale] });
  return (
    <>
      <PageTitle title={title}>{title}</PageTitle>
      <p>
        <Link to="/clients">{t('backToList')}</Link>
      </p>
      <Status tone="success">{notice}</Status>
      <section className="card" aria-labelledby={ids.facts}>
        <h2 id={ids.facts}>{t('factsTitle')}</h2>
        <dl className="facts">
          <dt>{t('colClientId')}</dt>
          <dd>
            <code>{client.clientId}</code>
          </dd>
          <dt>{t('colStatus')}</dt>
          <dd className={`client-status-${client.status}`} data-testid="client-status">
            {t(`status_${client.status}`)}
          </dd>
          <dt>{t('version')}</dt>
          <dd data-testid="client-version">{client.version}</dd>
          <dt>{t('colCreated')}</dt>
          <dd>{f.time(client.createdAt)}</dd>
          <dt>{t('updatedAt')}</dt>
          <dd>{f.time(client.updatedAt)}</dd>
        </dl>
      </section>
      <section className="card" aria-labelledby={ids.status}>
        <h2 id={ids.status}>{t('statusTitle')}</h2>
        <p className="hint">{t('disabledHint')}</p>
        {client.status === 'active' ? (
          <button type="button" className="danger" disabled={statusBusy} onClick={() => void setStatus('disable')}>
            {t('disableButton')}
          </button>
        ) : (
          <button type="button" disabled={statusBusy} onClick={() => void setStatus('enable')}>
            {t('enableButton')}
          </button>
        )}
        <ErrorMessage error={statusError} />
      </section>
      <section className="card" aria-labelledby={ids.edit}>
        <h2 id={ids.edit}>{t('editTitle')}</h2>
        <Status tone="success">{saved}</Status>
        <ClientFormView key={formKey} mode="edit" initial={formOf(client)} busy={busy} onSubmit={save} />
        {conflict && (
          <button type="button" className="secondary" onClick={() => void load()}>
            {t('reloadButton')}
          </button>
        )}
      </section>
    </>
  );
}
