import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { DeviceClient, TasdiqApiError, type PendingRequest } from '@tasdiq/client';
import { useTranslate } from '../../shared/i18n.tsx';
import { phoneText } from './messages.ts';
import { Consents } from './Consents.tsx';
import { OfficeHistory } from './OfficeHistory.tsx';
import { QrScanner } from './QrScanner.tsx';
import { activationCodeOf, isLinkQr, readActivationQr } from './qr-payloads.ts';
import { scannerText } from './scanner-messages.ts';
import { addHistory, forgetDevice, loadDevice, loadHistory, saveDevice, type HistoryEntry } from './store.ts';
import { createUserVerification, verifyUser } from './user-verification.ts';

const POLL_MS = 1500;

type Phone = { readonly client: DeviceClient; readonly credentialId: string };

function reasonOf(error: unknown): string {
  return error instanceof TasdiqApiError ? error.code : error instanceof Error ? error.message : String(error);
}

/**
 * The citizen's phone: activation by code, then the pending request with the three-code
 * choice, confirmed after a PIN/biometric check; history of sign-ins and signatures; this device.
 */
/** Every signed request stores the device, counter included, before it is sent. */
function withDurableCounter(phone: Phone): Phone {
  phone.client.persistState = (state) => saveDevice({ state, credentialId: phone.credentialId });
  return phone;
}

export function PhoneApp() {
  const t = useTranslate(phoneText);
  const ts = useTranslate(scannerText);
  const [phone, setPhone] = useState<Phone | null | undefined>(undefined);
  const [request, setRequest] = useState<PendingRequest | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'alert'; text: string } | null>(null);
  const [history, setHistory] = useState<HistoryEntry[]>(loadHistory);
  const [code, setCode] = useState('');
  const [qr, setQr] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    loadDevice().then(
      (stored) => setPhone(stored ? withDurableCounter({ client: new DeviceClient(stored.state), credentialId: stored.credentialId }) : null),
      () => setPhone(null),
    );
  }, []);

  /** Stores the device after a change other than a request (activation, history). */
  const persist = useCallback(async (p: Phone) => saveDevice({ state: p.client.state, credentialId: p.credentialId }), []);

  useEffect(() => {
    if (!phone || request) return;
    let stopped = false;
    const tick = async () => {
      try {
        const pending = await phone.client.pending();
        await persist(phone);
        if (!stopped && pending) setRequest(pending);
      } catch (error) {
        if (error instanceof TasdiqApiError && error.code === 'device_revoked') {
          await forgetDevice();
          if (!stopped) setPhone(null);
        }
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [phone, request, persist]);

  async function activate(event: FormEvent) {
    event.preventDefault();
    await activateWith(activationCodeOf(code));
  }

  function onActivationQr(text: string): string | undefined {
    const read = readActivationQr(text, location.origin);
    if ('problem' in read) return read.problem === 'otherServer' ? ts('otherServer', { server: read.server, here: location.origin }) : ts('notActivationQr');
    void activateWith(read.code);
    return undefined;
  }

  async function activateWith(activationCode: string) {
    setBusy(true);
    setNotice(null);
    try {
      const client = await DeviceClient.activate(location.origin, activationCode, { label: navigator.userAgent.slice(0, 64) });
      const credentialId = await createUserVerification(client.deviceId);
      const next = withDurableCounter({ client, credentialId });
      await persist(next);
      setPhone(next);
      setCode('');
      setNotice({ kind: 'success', text: t('activated') });
    } catch (error) {
      setNotice({ kind: 'alert', text: t('activateFailed', { reason: reasonOf(error) }) });
    } finally {
      setBusy(false);
    }
  }

  async function answer(choice: string | null) {
    if (!phone || !request) return;
    setBusy(true);
    let result = 'FAILED';
    try {
      if (choice === null) {
        result = (await phone.client.refuse(request)).result ?? 'USER_REFUSED';
        setNotice({ kind: 'success', text: t('refused') });
      } else {
        try {
          await verifyUser(phone.credentialId);
        } catch {
          setNotice({ kind: 'alert', text: t('verifyFailed') });
          return;
        }
        result = (await phone.client.confirm(request, request.verificationCodeChoices ? choice : undefined)).result ?? 'OK';
        setNotice({ kind: 'success', text: t('confirmed') });
      }
    } catch (error) {
      const wrong = error instanceof TasdiqApiError && error.code === 'auth_wrong_verification_code';
      result = wrong ? 'WRONG_VC' : reasonOf(error);
      setNotice({ kind: 'alert', text: wrong ? t('wrongCode') : t('failed', { reason: reasonOf(error) }) });
    } finally {
      await persist(phone);
      setHistory(addHistory({ at: Date.now(), service: request.service, kind: request.kind, result }));
      setRequest(null);
      setBusy(false);
    }
  }

  /** Device link: the QR on the computer screen names the session; scanning claims it. */
  async function link(event: FormEvent) {
    event.preventDefault();
    await linkWith(qr.trim());
  }

  function onLinkQr(text: string): string | undefined {
    if (!isLinkQr(text)) return ts('notLinkQr');
    void linkWith(text);
    return undefined;
  }

  async function linkWith(text: string) {
    if (!phone) return;
    setBusy(true);
    setNotice(null);
    try {
      setRequest(await phone.client.link(text));
      setQr('');
    } catch (error) {
      setNotice({ kind: 'alert', text: t('failed', { reason: reasonOf(error) }) });
    } finally {
      await persist(phone);
      setBusy(false);
    }
  }

  async function remove() {
    if (!phone) return;
    setBusy(true);
    try {
      await phone.client.revoke();
    } catch {
      // Revoked or unknown already: forgetting it here is what is left to do.
    }
    await forgetDevice();
    setPhone(null);
    setNotice({ kind: 'success', text: t('removed') });
    setBusy(false);
  }

  const resultText = (r: string) => (r === 'OK' || r === 'USER_REFUSED' || r === 'WRONG_VC' ? t(`result_${r}`) : t('result_OTHER'));

  return (
    <section className="card" aria-labelledby="phone-title">
      <h2 id="phone-title">{t('phoneTitle')}</h2>
      {notice && (
        <p className={notice.kind} role={notice.kind === 'alert' ? 'alert' : 'status'}>
          {notice.text}
        </p>
      )}
      {phone === null && (
        <form onSubmit={activate}>
          <p>{t('activateIntro')}</p>
          <QrScanner startLabel={ts('scanActivation')} onDecode={onActivationQr} disabled={busy} />
          <p className="hint">{ts('typeInstead')}</p>
          <div className="row">
            <div className="field">
              <label htmlFor="activation-code">{t('codeLabel')}</label>
              <input id="activation-code" value={code} onChange={(e) => setCode(e.target.value)} autoComplete="one-time-code" required minLength={4} maxLength={64} />
            </div>
            <button type="submit" disabled={busy}>
              {busy ? t('activating') : t('activate')}
            </button>
          </div>
        </form>
      )}
      {phone && (
        <>
          {request ? (
            <section aria-labelledby="request-title">
              <h3 id="request-title">{t('requestTitle')}</h3>
              <p>{t(request.kind === 'sign' ? 'asksSign' : 'asksSignIn', { service: request.service })}</p>
              {request.interaction === 'confirmation_message' ? (
                <>
                  <p className="hint">{t('compareMessage')}</p>
                  <p id="confirmation-message">
                    <strong>{request.confirmationMessage}</strong>
                  </p>
                </>
              ) : (
                request.reason && <p>{request.reason}</p>
              )}
              {request.documentName && <p>{t('document', { name: request.documentName })}</p>}
              {request.verificationCodeChoices && <p>{t('pickCode')}</p>}
              <div className="actions" role="group" aria-label={t('pickCode')}>
                {(request.verificationCodeChoices ?? ['OK']).map((c) => (
                  <button key={c} type="button" className="code" disabled={busy} onClick={() => void answer(c)}>
                    {request.verificationCodeChoices ? c : t('confirm')}
                  </button>
                ))}
                <button type="button" disabled={busy} onClick={() => void answer(null)}>
                  {t('refuse')}
                </button>
              </div>
            </section>
          ) : (
            <>
              <p className="hint">{t('waiting')}</p>
              <form onSubmit={link}>
                <p className="hint">{t('linkHint')}</p>
                <QrScanner startLabel={ts('scanLink')} onDecode={onLinkQr} disabled={busy} />
                <div className="row">
                  <div className="field">
                    <label htmlFor="link-qr">{t('qrLabel')}</label>
                    <input id="link-qr" value={qr} onChange={(e) => setQr(e.target.value)} required maxLength={200} autoComplete="off" />
                  </div>
                  <button type="submit" disabled={busy}>
                    {t('link')}
                  </button>
                </div>
              </form>
            </>
          )}
          <h3>{t('historyTitle')}</h3>
          {history.length === 0 ? (
            <p className="hint">{t('historyEmpty')}</p>
          ) : (
            <ul aria-label={t('historyTitle')}>
              {history.map((h) => (
                <li key={`${h.at}-${h.service}`}>
                  {new Date(h.at).toLocaleString()} — {h.service} — {resultText(h.result)}
                </li>
              ))}
            </ul>
          )}
          <OfficeHistory client={phone.client} onSigned={() => persist(phone)} />
          <Consents client={phone.client} onSigned={() => persist(phone)} />
          <h3>{t('deviceTitle')}</h3>
          <p>{t('deviceId', { id: phone.client.deviceId })}</p>
          <button type="button" disabled={busy} onClick={() => void remove()}>
            {t('removeDevice')}
          </button>
        </>
      )}
    </section>
  );
}
