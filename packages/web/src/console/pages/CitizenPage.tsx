import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslate } from '../../shared/i18n.tsx';
import { consoleText, type ConsoleKey } from '../messages.ts';
import { useConsole, useOperatorApi } from '../session.tsx';
import { SUPERVISING_ROLES, type ActivationCode, type AuditEvent, type Citizen, type PendingBinding } from '../types.ts';
import { CitizenRecord, fullName } from '../CitizenRecord.tsx';
import { ErrorMessage, PageTitle, Status, useFormat } from '../ui.tsx';
import { useOfficeName } from '../offices.ts';

export function CitizenPage({ citizenId }: { citizenId: string }) {
  const t = useTranslate(consoleText);
  const call = useOperatorApi();
  const { session } = useConsole();
  const recordId = useId();
  const [citizen, setCitizen] = useState<Citizen | null>(null);
  const [history, setHistory] = useState<readonly AuditEvent[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');

  const reload = useCallback(async () => {
    try {
      const [record, events] = await Promise.all([
        call<{ citizen: Citizen }>(`/api/v1/citizens/${citizenId}`),
        call<{ items: AuditEvent[] }>(`/api/v1/citizens/${citizenId}/history`),
      ]);
      setCitizen(record.citizen);
      setHistory(events.items);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [call, citizenId]);

  useEffect(() => {
    void reload();
    // Reloaded after each action by the sections; a language switch needs no new data.
  }, [citizenId]);

  const done = (message: string) => {
    setNotice(message);
    void reload();
  };

  const enrollment = citizen?.enrollment;
  const active = enrollment?.status === 'active';
  const supervising = session ? SUPERVISING_ROLES.includes(session.operator.role) : false;
  return (
    <>
      <PageTitle title={t('citizenTitle')}>{citizen ? `${t('citizenTitle')}: ${fullName(citizen, 'latn')}` : t('citizenTitle')}</PageTitle>
      <Status tone="success">{notice}</Status>
      <ErrorMessage error={error} />
      {!citizen && !error && <Status>{t('loading')}</Status>}
      {citizen && (
        <>
          <CitizenRecord citizen={citizen} headingId={recordId} />
          <div className="grid">
            {active && citizen.pendingBinding && (
              <ConfirmCode citizenId={citizenId} pending={citizen.pendingBinding} onDone={(phone) => done(t('phoneBound', { phone }))} />
            )}
            {active && !citizen.binding && !citizen.pendingBinding && (
              <PhoneForm citizenId={citizenId} title={t('bindTitle')} path="phone-binding" onDone={() => void reload()} />
            )}
            {active && citizen.binding && <ActivationSection citizenId={citizenId} onDone={() => void reload()} />}
            {enrollment && enrollment.status !== 'revoked' && supervising && (
              <ManageSection citizen={citizen} onDone={(key) => done(t(key))} />
            )}
            {enrollment && enrollment.status !== 'revoked' && !supervising && (
              <section className="card">
                <h2>{t('manageTitle')}</h2>
                <p className="hint">{t('onlySupervisors')}</p>
              </section>
            )}
          </div>
          <History events={history ?? []} />
        </>
      )}
    </>
  );
}

function Card({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function PhoneForm(props: { citizenId: string; title: string; path: 'phone-binding' | 'rebind'; reason?: string; onDone(binding: PendingBinding): void }) {
  const t = useTranslate(consoleText);
  const call = useOperatorApi();
  const ids = { phone: useId(), hint: useId() };
  const [phone, setPhone] = useState('+998 ');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = props.path === 'rebind' ? { phone, reason: props.reason ?? '' } : { phone };
      const answer = await call<{ binding: PendingBinding }>(`/api/v1/citizens/${props.citizenId}/${props.path}`, body);
      props.onDone(answer.binding);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const form = (
    <form onSubmit={submit}>
      <div className="field">
        <label htmlFor={ids.phone}>{t('phone')}</label>
        <input id={ids.phone} type="tel" autoComplete="off" value={phone} aria-describedby={ids.hint} onChange={(e) => setPhone(e.target.value)} />
        <p id={ids.hint} className="hint">
          {t('phoneHint')}
        </p>
      </div>
      <button type="submit" disabled={busy}>
        {t('sendCode')}
      </button>
      <ErrorMessage error={error} />
    </form>
  );
  return props.path === 'rebind' ? form : <Card title={props.title}>{form}</Card>;
}

function ConfirmCode({ citizenId, pending, onDone }: { citizenId: string; pending: PendingBinding; onDone(phone: string): void }) {
  const t = useTranslate(consoleText);
  const f = useFormat();
  const call = useOperatorApi();
  const ids = { code: useId(), hint: useId() };
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(`/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId: pending.id, code: code.replace(/\s/g, '') });
      onDone(pending.phone);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Card title={pending.rebind ? t('rebindTitle') : t('bindTitle')}>
      <p data-testid="code-sent">{t('codeSent', { phone: pending.phone, time: f.time(pending.expiresAt), attempts: pending.attemptsLeft })}</p>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor={ids.code}>{t('smsCode')}</label>
          <input
            id={ids.code}
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={8}
            value={code}
            aria-describedby={ids.hint}
            onChange={(e) => setCode(e.target.value)}
          />
          <p id={ids.hint} className="hint">
            {t('smsCodeHint')}
          </p>
        </div>
        <button type="submit" disabled={busy}>
          {t('confirmCode')}
        </button>
        <ErrorMessage error={error} />
      </form>
    </Card>
  );
}

function ActivationSection({ citizenId, onDone }: { citizenId: string; onDone(): void }) {
  const t = useTranslate(consoleText);
  const f = useFormat();
  const call = useOperatorApi();
  const [issued, setIssued] = useState<ActivationCode | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const issue = async () => {
    setBusy(true);
    setError(null);
    try {
      setIssued(await call<ActivationCode>(`/api/v1/citizens/${citizenId}/activation-codes`, {}));
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={t('activationTitle')}>
      <p className="hint">{t('activationIntro')}</p>
      <button type="button" onClick={issue} disabled={busy}>
        {t('issueCode')}
      </button>
      <div aria-live="polite">
        {issued && (
          <>
            <p>
              {t('activationCode')}:
              <span className="code" data-testid="activation-code">
                {issued.code}
              </span>
            </p>
            <img className="qr" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(issued.qrSvg)}`} alt={t('qrAlt')} />
            <p>{t('activationExpires', { time: f.time(issued.expiresAt) })}</p>
          </>
        )}
      </div>
      <ErrorMessage error={error} />
    </Card>
  );
}

function ManageSection({ citizen, onDone }: { citizen: Citizen; onDone(key: ConsoleKey): void }) {
  const t = useTranslate(consoleText);
  const call = useOperatorApi();
  const ids = { reason: useId(), hint: useId(), missing: useId() };
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [rebinding, setRebinding] = useState(false);
  const status = citizen.enrollment?.status;

  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const [missingReason, setMissingReason] = useState(false);
  /** The server demands a reason too; asking here saves the round trip and says where. */
  const haveReason = () => {
    const ok = reason.trim().length > 0;
    setMissingReason(!ok);
    if (!ok) reasonRef.current?.focus();
    return ok;
  };

  const act = async (action: 'suspend' | 'resume' | 'revoke') => {
    if (!haveReason()) return;
    setBusy(true);
    setError(null);
    try {
      await call(`/api/v1/citizens/${citizen.id}/${action}`, { reason });
      setReason('');
      onDone(`done_${action}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t('manageTitle')}>
      <div className="field">
        <label htmlFor={ids.reason}>{t('reason')}</label>
        <textarea
          ref={reasonRef}
          id={ids.reason}
          rows={2}
          maxLength={500}
          required
          value={reason}
          aria-invalid={missingReason}
          aria-describedby={missingReason ? `${ids.hint} ${ids.missing}` : ids.hint}
          onChange={(e) => setReason(e.target.value)}
        />
        <p id={ids.hint} className="hint">
          {t('reasonHint')}
        </p>
        {missingReason && (
          <p id={ids.missing} className="alert" role="alert">
            {t('reasonRequired')}
          </p>
        )}
      </div>
      <div className="actions">
        {status === 'active' && (
          <button type="button" className="secondary" disabled={busy} onClick={() => act('suspend')}>
            {t('suspend')}
          </button>
        )}
        {status === 'suspended' && (
          <button type="button" className="secondary" disabled={busy} onClick={() => act('resume')}>
            {t('resume')}
          </button>
        )}
        <button type="button" className="danger" disabled={busy} onClick={() => act('revoke')}>
          {t('revoke')}
        </button>
        {status === 'active' && citizen.binding && !citizen.pendingBinding && (
          <button type="button" className="secondary" aria-expanded={rebinding} onClick={() => (rebinding ? setRebinding(false) : haveReason() && setRebinding(true))}>
            {t('rebindTitle')}
          </button>
        )}
      </div>
      {rebinding && citizen.id && (
        <PhoneForm
          citizenId={citizen.id}
          title={t('rebindTitle')}
          path="rebind"
          reason={reason}
          onDone={() => {
            setRebinding(false);
            setReason('');
            onDone('rebindStarted');
          }}
        />
      )}
      <ErrorMessage error={error} />
    </Card>
  );
}

function History({ events }: { events: readonly AuditEvent[] }) {
  const t = useTranslate(consoleText);
  const f = useFormat();
  const officeName = useOfficeName();
  const id = useId();
  const label = (action: string) => {
    const key = `action_${action}` as ConsoleKey;
    return key in consoleText.en ? t(key) : action;
  };
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{t('historyTitle')}</h2>
      {events.length === 0 ? (
        <p>{t('historyEmpty')}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('colTime')}</th>
                <th scope="col">{t('colAction')}</th>
                <th scope="col">{t('colOffice')}</th>
                <th scope="col">{t('colActor')}</th>
                <th scope="col">{t('colReason')}</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id} data-action={e.action}>
                  <td>{f.time(e.at)}</td>
                  <td>{label(e.action)}</td>
                  <td>{officeName(e.officeId)}</td>
                  <td>{e.actorId}</td>
                  <td>{e.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
