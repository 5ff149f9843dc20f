import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslate } from '../../shared/i18n.tsx';
import { consoleText } from '../messages.ts';
import { useConsole, useOperatorApi } from '../session.tsx';
import { useOffices, useOfficeName } from '../offices.ts';
import type { Operator, Role } from '../types.ts';
import { ErrorMessage, PageTitle, Status, useFormat } from '../ui.tsx';

const ROLES: readonly Role[] = ['operator', 'notary', 'supervisor', 'admin'];

/** Administrators invite operators (a one-time passkey registration link) and disable them. */
export function OperatorsPage() {
  const t = useTranslate(consoleText);
  const call = useOperatorApi();
  const { session } = useConsole();
  const officeName = useOfficeName();
  const ids = { reason: useId(), list: useId() };
  const [operators, setOperators] = useState<readonly Operator[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [reason, setReason] = useState('');
  const [missingReason, setMissingReason] = useState(false);
  const reasonRef = useRef<HTMLTextAreaElement>(null);

  const reload = useCallback(async () => {
    try {
      setOperators((await call<{ items: Operator[] }>('/api/v1/operator/operators')).items);
    } catch (e) {
      setError(e);
    }
  }, [call]);

  useEffect(() => {
    void reload();
    // Loaded once per visit; actions below reload it.
  }, []);

  const disable = async (operator: Operator) => {
    if (!reason.trim()) {
      setMissingReason(true);
      reasonRef.current?.focus();
      return;
    }
    setMissingReason(false);
    setError(null);
    try {
      await call(`/api/v1/operator/operators/${operator.id}/disable`, { reason });
      setReason('');
      setNotice(t('disabledDone', { name: operator.name }));
      await reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <>
      <PageTitle title={t('operatorsTitle')}>{t('operatorsTitle')}</PageTitle>
      <InviteForm onInvited={() => void reload()} />
      <section className="card" aria-labelledby={ids.list}>
        <h2 id={ids.list}>{t('operatorsTitle')}</h2>
        <Status tone="success">{notice}</Status>
        <ErrorMessage error={error} />
        <div className="field">
          <label htmlFor={ids.reason}>{t('disableReason')}</label>
          <textarea
            ref={reasonRef}
            id={ids.reason}
            rows={2}
            maxLength={500}
            value={reason}
            aria-invalid={missingReason}
            onChange={(e) => setReason(e.target.value)}
          />
          {missingReason && (
            <p className="alert" role="alert">
              {t('reasonRequired')}
            </p>
          )}
        </div>
        {operators === null ? (
          <Status>{t('loading')}</Status>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('colName')}</th>
                  <th scope="col">{t('role')}</th>
                  <th scope="col">{t('office')}</th>
                  <th scope="col">{t('colStatus')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('disableReason')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {operators.map((o) => (
                  <tr key={o.id}>
                    <td>{o.name}</td>
                    <td>{t(`role_${o.role}`)}</td>
                    <td>{officeName(o.officeId)}</td>
                    <td>{t(`opStatus_${o.status}` as 'opStatus_active')}</td>
                    <td>
                      {/* The server refuses it too: an admin disabling themselves could leave nobody to run the console. */}
                      {o.status !== 'disabled' && o.id !== session?.operator.id && (
                        <button type="button" className="secondary" onClick={() => disable(o)}>
                          {t('disable', { name: o.name })}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function InviteForm({ onInvited }: { onInvited(): void }) {
  const t = useTranslate(consoleText);
  const f = useFormat();
  const call = useOperatorApi();
  const offices = useOffices();
  const ids = { title: useId(), name: useId(), role: useId(), office: useId(), link: useId() };
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [officeId, setOfficeId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [invited, setInvited] = useState<{ name: string; registrationUrl: string; expiresAt: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setInvited(null);
    try {
      const answer = await call<{ operator: Operator; registrationUrl: string; expiresAt: string }>('/api/v1/operator/invitations', {
        name: name.trim(),
        role,
        officeId: officeId || offices[0]?.id || '',
      });
      setInvited({ name: answer.operator.name, registrationUrl: answer.registrationUrl, expiresAt: answer.expiresAt });
      setName('');
      onInvited();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={submit} aria-labelledby={ids.title}>
      <h2 id={ids.title}>{t('inviteTitle')}</h2>
      <div className="row">
        <div className="field">
          <label htmlFor={ids.name}>{t('colName')}</label>
          <input id={ids.name} autoComplete="off" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.role}>{t('role')}</label>
          <select id={ids.role} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role_${r}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.office}>{t('office')}</label>
          <select id={ids.office} value={officeId || offices[0]?.id || ''} onChange={(e) => setOfficeId(e.target.value)}>
            {offices.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <button type="submit" disabled={busy}>
        {t('inviteButton')}
      </button>
      <ErrorMessage error={error} />
      <div aria-live="polite">
        {invited && (
          <div className="success">
            <p>{t('inviteCreated', { name: invited.name, time: f.time(invited.expiresAt) })}</p>
            <label htmlFor={ids.link}>{t('registrationLink')}</label>
            <input id={ids.link} readOnly value={invited.registrationUrl} onFocus={(e) => e.target.select()} data-testid="registration-link" />
          </div>
        )}
      </div>
    </form>
  );
}
