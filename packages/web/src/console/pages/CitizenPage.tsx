import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslate } from '../../shared/i18n.tsx';
import { consoleText, type ConsoleKey } from '../messages.ts';
import { useConsole, useOperatorApi } from '../session.tsx';
import { SUPERVISING_ROLES, type ActivationCode, type AuditEvent, type Citizen, type PendingBinding } from '../types.ts';
import { CitizenRecord, fullName } from '../CitizenRecord.tsx';
import { ErrorMessage, PageTitle, Status, useFormat } from '../ui.tsx';
import { useOfficeName } from '../offices.ts';
import { enrollmentText } from '../enrollment-text.ts';
import { useReasonPicker, useSmsLanguage } from '../ReasonPicker.tsx';
import { useAuditActionLabel } from '../audit-labels.ts';

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
              <ConfirmCode
                citizenId={citizenId}
                pending={citizen.pendingBinding}
                supervising={supervising}
                onDone={(phone) => done(t('phoneBound', { phone }))}
                onChanged={(message) => (message ? done(message) : void reload())}
              />
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

function PhoneForm(props: {
  citizenId: string;
  title: string;
  path: 'phone-binding' | 'rebind';
  reason?: string;
  initialPhone?: string;
  onDone(binding: PendingBinding): void;
}) {
  const t = useTranslate(consoleText);
  const call = useOperatorApi();
  const ids = { phone: useId(), hint: useId() };
  const [phone, setPhone] = useState(props.initialPhone ?? '+998 ');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const sms = useSmsLanguage();
  const reasonPicker = useReasonPicker('bind');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // A re-bind carries the reason written in the management card; a first binding its own.
    const reason = props.path === 'rebind' ? (props.reason ?? '') : reasonPicker.value();
    if (reason === null) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await call<{ binding: PendingBinding }>(`/api/v1/citizens/${props.citizenId}/${props.path}`, { phone, reason, smsLanguage: sms.language });
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
      {sms.element}
      {props.path === 'phone-binding' && reasonPicker.element}
      <button type="submit" disabled={busy}>
        {t('sendCode')}
      </button>
      <ErrorMessage error={error} />
    </form>
  );
  return props.path === 'rebind' ? form : <Card title={props.title}>{form}</Card>;
}

/**
 * The code step of a pending binding. While the code can be entered it asks for it; once it
 * expired or ran out of attempts it says so. Either way the operator can send a new code to
 * the same number or change the number: starting again abandons the old pending binding. A
 * re-binding needs a supervisor and a reason for that, as it did the first time.
 */
function ConfirmCode(props: { citizenId: string; pending: PendingBinding; supervising: boolean; onDone(phone: string): void; onChanged(message?: string): void }) {
  const { citizenId, pending } = props;
  const t = useTranslate(consoleText);
  const te = useTranslate(enrollmentText);
  const f = useFormat();
  const call = useOperatorApi();
  const ids = { code: useId(), hint: useId(), reason: useId(), reasonHint: useId(), phone: useId(), phoneHint: useId() };
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [changing, setChanging] = useState(false);
  const [newPhone, setNewPhone] = useState('+998 ');
  const [rebindReason, setRebindReason] = useState('');
  const sms = useSmsLanguage();
  const reasonPicker = useReasonPicker('bind');
  const waiting = pending.state === 'waiting';
  const mayResend = !pending.rebind || props.supervising;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(`/api/v1/citizens/${citizenId}/phone-binding/confirm`, { bindingId: pending.id, code: code.replace(/\s/g, '') });
      props.onDone(pending.phone);
    } catch (e) {
      setError(e);
      setBusy(false);
      // The attempts left, or the expired/exhausted state, come with the record.
      props.onChanged();
    }
  };

  /** The same start as the first time, to the same number or, after "change", to a new one. */
  const resend = async () => {
    const phone = changing ? newPhone : pending.phone;
    const reason = pending.rebind ? rebindReason.trim() : reasonPicker.value();
    if (!reason) {
      if (pending.rebind) document.getElementById(ids.reason)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const path = pending.rebind ? 'rebind' : 'phone-binding';
      const answer = await call<{ binding: PendingBinding }>(`/api/v1/citizens/${citizenId}/${path}`, { phone, reason, smsLanguage: sms.language });
      setCode('');
      setChanging(false);
      props.onChanged(te('newCodeSent', { phone: answer.binding.phone }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={pending.rebind ? t('rebindTitle') : t('bindTitle')}>
      {waiting ? (
        <p data-testid="code-sent">{t('codeSent', { phone: pending.phone, time: f.time(pending.expiresAt), attempts: pending.attemptsLeft })}</p>
      ) : (
        <p className="alert" role="alert" data-testid="code-state" data-state={pending.state}>
          {pending.state === 'expired' ? te('codeExpired', { phone: pending.phone, time: f.time(pending.expiresAt) }) : te('codeExhausted', { phone: pending.phone })}
        </p>
      )}
      {waiting && (
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
        </form>
      )}
      <ErrorMessage error={error} />
      {mayResend ? (
        <div className="resend">
          {changing && (
            <div className="field">
              <label htmlFor={ids.phone}>{t('phone')}</label>
              <input id={ids.phone} type="tel" autoComplete="off" value={newPhone} aria-describedby={ids.phoneHint} onChange={(e) => setNewPhone(e.target.value)} />
              <p id={ids.phoneHint} className="hint">
                {t('phoneHint')}
              </p>
            </div>
          )}
          {sms.element}
          {pending.rebind ? (
            <div className="field">
              <label htmlFor={ids.reason}>{te('reasonFor_bind')}</label>
              <textarea
                id={ids.reason}
                rows={2}
                maxLength={500}
                required
                value={rebindReason}
                aria-describedby={ids.reasonHint}
                onChange={(e) => setRebindReason(e.target.value)}
              />
              <p id={ids.reasonHint} className="hint">
                {t('reasonHint')}
              </p>
            </div>
          ) : (
            reasonPicker.element
          )}
          <div className="actions">
            <button type="button" className={waiting ? 'secondary' : undefined} disabled={busy} onClick={() => void resend()}>
              {te('newCode')}
            </button>
            <button type="button" className="secondary" aria-expanded={changing} disabled={busy} onClick={() => setChanging(!changing)}>
              {changing ? te('cancelChange') : te('changeNumber')}
            </button>
          </div>
        </div>
      ) : (
        <p className="hint">{te('rebindResendOnly')}</p>
      )}
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
  const reasonPicker = useReasonPicker('code');
  const issue = async () => {
    const reason = reasonPicker.value();
    if (reason === null) return;
    setBusy(true);
    setError(null);
    try {
      setIssued(await call<ActivationCode>(`/api/v1/citizens/${citizenId}/activation-codes`, { reason }));
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
      {reasonPicker.element}
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
        {status === 'active' && citizen.binding && (
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
  const label = useAuditActionLabel();
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
