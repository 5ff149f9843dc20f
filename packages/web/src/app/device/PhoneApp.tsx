import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { DeviceClient, TasdiqApiError, type PendingRequest } from '@tasdiq/client';
import { useLocale, useTranslate } from '../../shared/i18n.tsx';
import { phoneText } from './messages.ts';
import { Consents } from './Consents.tsx';
import { History } from './History.tsx';
import { OfficeHistory } from './OfficeHistory.tsx';
import { QrScanner } from './QrScanner.tsx';
import { activationCodeOf, isLinkQr, readActivationQr } from './qr-payloads.ts';
import { scannerText } from './scanner-messages.ts';
import { describeProblem, problemText, StorageError } from './problem-messages.ts';
import { connectPush, onWake, PushTimeoutError, type PushOutcome } from './push.ts';
import { pushReasonText, pushText } from './push-messages.ts';
import { canStoreDevice, forgetDevice, loadDevice, saveAppLocale, saveDevice } from './store.ts';
import { createUserVerification, verifyUser } from './user-verification.ts';

/** Checking for requests while the app is open and in view: often without push, rarely with it. */
const POLL_MS = 1500;
const POLL_WITH_PUSH_MS = 30_000;

type Phone = { readonly client: DeviceClient; readonly credentialId: string };
type Notice = { readonly kind: 'success' | 'alert'; readonly text: string };

/** Every signed request stores the device, counter included, before it is sent. */
function withDurableCounter(phone: Phone): Phone {
  phone.client.persistState = (state) => saveDevice({ state, credentialId: phone.credentialId });
  return phone;
}

/** Codes that mean this device is over: the app forgets it and offers activation again. */
const DEVICE_GONE = new Set(['device_revoked', 'device_unknown', 'device_certificate_expired']);

/**
 * The citizen's phone: activation by code (PIN/biometrics first, so a phone that cannot check its
 * owner never spends a code), then the pending request with the three-code choice, confirmed
 * after a PIN/biometric check; notifications by Web Push; the history of sign-ins and
 * signatures from the server; this device.
 */
export function PhoneApp() {
  const t = useTranslate(phoneText);
  const ts = useTranslate(scannerText);
  const tp = useTranslate(problemText);
  const tn = useTranslate(pushText);
  const tr = useTranslate(pushReasonText);
  const { locale } = useLocale();
  const [phone, setPhone] = useState<Phone | null | undefined>(undefined);
  const [request, setRequest] = useState<PendingRequest | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [push, setPush] = useState<PushOutcome | null>(null);
  const [pushDismissed, setPushDismissed] = useState(false);
  const [pushBusy, setPushBusy] = useState(false);
  const [historyFreshness, setHistoryFreshness] = useState(0);
  const [code, setCode] = useState('');
  const [qr, setQr] = useState('');
  const [busy, setBusy] = useState(false);
  const [confirmingRemove, setConfirmingRemove] = useState(false);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  const requestHeading = useRef<HTMLHeadingElement>(null);
  const removeYes = useRef<HTMLButtonElement>(null);
  const removeButton = useRef<HTMLButtonElement>(null);
  const pushStatus = useRef<HTMLParagraphElement>(null);
  /** Where focus goes after the next render: the notice once a screen changed under the keyboard. */
  const focusNext = useRef<'notice' | 'request' | 'removeYes' | 'removeButton' | 'pushStatus' | null>(null);
  const localeRef = useRef(locale);
  localeRef.current = locale;

  const show = useCallback((next: Notice | null, focus = false) => {
    setNotice(next);
    if (focus && next) focusNext.current = 'notice';
  }, []);

  useEffect(() => {
    const target = focusNext.current;
    if (!target) return;
    focusNext.current = null;
    const element = { notice: noticeRef, request: requestHeading, removeYes, removeButton, pushStatus }[target].current;
    element?.focus();
  });

  useEffect(() => {
    // The local list of earlier versions: the history now comes from the server.
    try {
      localStorage.removeItem('tasdiq.history');
    } catch {
      // Storage blocked: nothing to clean.
    }
    loadDevice().then(
      (stored) => setPhone(stored ? withDurableCounter({ client: new DeviceClient(stored.state, { locale: localeRef.current }), credentialId: stored.credentialId }) : null),
      () => setPhone(null),
    );
  }, []);

  // Every request asks for answers in the citizen's language; notifications use it too.
  useEffect(() => {
    if (phone) phone.client.locale = locale;
    saveAppLocale(locale).catch(() => undefined);
  }, [phone, locale]);

  /** Stores the device after a change other than a request (activation). */
  const persist = useCallback(async (p: Phone) => saveDevice({ state: p.client.state, credentialId: p.credentialId }), []);

  const deviceGone = useCallback(
    async (error: unknown): Promise<boolean> => {
      if (!(error instanceof TasdiqApiError && DEVICE_GONE.has(error.code))) return false;
      await forgetDevice().catch(() => undefined);
      setPhone(null);
      setRequest(null);
      setPush(null);
      show({ kind: 'alert', text: t('revokedElsewhere') }, true);
      return true;
    },
    [show, t],
  );

  const deviceGoneRef = useRef(deviceGone);
  deviceGoneRef.current = deviceGone;

  // Web Push: at each start, renew what the citizen allowed; otherwise explain and offer it.
  useEffect(() => {
    if (!phone) return;
    let stopped = false;
    void connectPush(phone.client, { ask: false }).then(async (outcome) => {
      if (stopped) return;
      if (outcome.state === 'failed' && (await deviceGoneRef.current(outcome.error))) return;
      setPush(outcome);
    });
    return () => {
      stopped = true;
    };
  }, [phone]);

  const pushOn = push?.state === 'on';

  // The pending request: fetched when a push wakes the app, when it comes into view, and by a
  // timer while it is in view (the fallback; rare once pushes arrive).
  useEffect(() => {
    if (!phone || request) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    const tick = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          try {
            const pending = await phone.client.pending();
            if (!stopped && pending) {
              setRequest(pending);
              setAnnouncement(t('newRequest', { service: pending.service }));
              focusNext.current = 'request';
              return;
            }
          } catch (error) {
            if (!stopped && (await deviceGone(error))) return;
          }
        } while (again && !stopped);
      } finally {
        running = false;
      }
      schedule();
    };
    const schedule = () => {
      clearTimeout(timer);
      if (stopped || document.visibilityState !== 'visible') return;
      timer = setTimeout(() => void tick(), pushOn ? POLL_WITH_PUSH_MS : POLL_MS);
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') void tick();
      else clearTimeout(timer);
    };
    void tick();
    document.addEventListener('visibilitychange', onVisible);
    const stopWake = onWake(() => void tick());
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
      stopWake();
    };
  }, [phone, request, pushOn, deviceGone, t]);

  // A request left unanswered ends on the server at its expiry; the screen follows.
  useEffect(() => {
    if (!request) return;
    const timer = setTimeout(
      () => {
        setRequest(null);
        show({ kind: 'alert', text: t('expired') }, true);
        setHistoryFreshness((n) => n + 1);
      },
      Math.max(0, request.expiresAt - Date.now()) + 1000,
    );
    return () => clearTimeout(timer);
  }, [request, show, t]);

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

  /**
   * The order matters: storage and the passkey are checked before the code is redeemed (a phone
   * without a screen lock keeps its code and the citizen's current device), and the device is
   * stored before success is shown (a device that cannot be kept is revoked at once).
   */
  async function activateWith(activationCode: string) {
    setBusy(true);
    show(null);
    try {
      if (!(await canStoreDevice())) throw new StorageError(true);
      // The passkey is made for these keys (the activation's challenge), before the code is sent:
      // a phone without a screen lock fails there and keeps its code.
      let credentialId = '';
      const client = await DeviceClient.activate(location.origin, activationCode, {
        label: navigator.userAgent.slice(0, 64),
        locale,
        userVerification: async (challenge) => {
          const made = await createUserVerification(challenge);
          credentialId = made.credentialId;
          return made.registration;
        },
      });
      const next = { client, credentialId };
      try {
        await persist(next);
      } catch (error) {
        await client.revoke().catch(() => undefined);
        throw new StorageError(false, error);
      }
      setPhone(withDurableCounter(next));
      setCode('');
      setPushDismissed(false);
      show({ kind: 'success', text: t('activated') }, true);
    } catch (error) {
      show({ kind: 'alert', text: t('activateFailed', { reason: describeProblem(error, tp) }) }, true);
    } finally {
      setBusy(false);
    }
  }

  async function enablePush() {
    if (!phone) return;
    setPushBusy(true);
    try {
      const outcome = await connectPush(phone.client, { ask: true });
      if (outcome.state === 'failed' && (await deviceGone(outcome.error))) return;
      setPush(outcome);
      if (outcome.state === 'ask') setPushDismissed(true);
      focusNext.current = 'pushStatus';
    } finally {
      setPushBusy(false);
    }
  }

  function dismissPush() {
    setPushDismissed(true);
    focusNext.current = 'pushStatus';
  }

  function pushFailureReason(error: unknown): string {
    if (error instanceof PushTimeoutError) return tr('timeout');
    if (error instanceof TasdiqApiError) return error.title || tr('registerFailed');
    return tr('unreachable');
  }

  async function answer(choice: string | null) {
    if (!phone || !request) return;
    setBusy(true);
    let userVerification: object | undefined;
    if (choice !== null) {
      try {
        userVerification = await verifyUser(phone.credentialId, request.signingInput);
      } catch {
        // Nothing is sent: the request stays on screen for another try or a refusal.
        show({ kind: 'alert', text: t('verifyFailed') }, true);
        setBusy(false);
        return;
      }
    }
    try {
      if (choice === null) {
        await phone.client.refuse(request);
        show({ kind: 'success', text: t('refused') }, true);
      } else {
        await phone.client.confirm(request, request.verificationCodeChoices ? choice : undefined, { userVerification });
        show({ kind: 'success', text: t('confirmed') }, true);
      }
    } catch (error) {
      if (await deviceGone(error)) return;
      const wrong = error instanceof TasdiqApiError && error.code === 'auth_wrong_verification_code';
      show({ kind: 'alert', text: wrong ? t('wrongCode') : t('failed', { reason: describeProblem(error, tp) }) }, true);
    } finally {
      setRequest(null);
      setAnnouncement('');
      setHistoryFreshness((n) => n + 1);
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
    show(null);
    try {
      const linked = await phone.client.link(text);
      setRequest(linked);
      focusNext.current = 'request';
      setQr('');
    } catch (error) {
      if (!(await deviceGone(error))) show({ kind: 'alert', text: t('failed', { reason: describeProblem(error, tp) }) }, true);
    } finally {
      setBusy(false);
    }
  }

  function askRemove() {
    setConfirmingRemove(true);
    focusNext.current = 'removeYes';
  }

  function cancelRemove() {
    setConfirmingRemove(false);
    focusNext.current = 'removeButton';
  }

  async function remove() {
    if (!phone) return;
    setBusy(true);
    try {
      await phone.client.revoke();
    } catch (error) {
      // Revoked or unknown already: forgetting it here is what is left to do. Anything else
      // (no network) keeps the device, which the server would otherwise still count as active.
      if (!(error instanceof TasdiqApiError && DEVICE_GONE.has(error.code))) {
        show({ kind: 'alert', text: t('failed', { reason: describeProblem(error, tp) }) }, true);
        setConfirmingRemove(false);
        setBusy(false);
        return;
      }
    }
    await forgetDevice().catch(() => undefined);
    setConfirmingRemove(false);
    setPhone(null);
    setRequest(null);
    setPush(null);
    show({ kind: 'success', text: t('removed') }, true);
    setBusy(false);
  }

  const pushLine = (outcome: PushOutcome): string => {
    switch (outcome.state) {
      case 'on':
        return tn('pushOn');
      case 'denied':
        return tn('pushDenied');
      case 'unsupported':
        return tn('pushUnsupported');
      case 'off':
        return tn('pushOff');
      case 'failed':
        return tn('pushFailed', { reason: pushFailureReason(outcome.error) });
      case 'ask':
        return tn('pushDeclined');
    }
  };

  return (
    <section className="card" aria-labelledby="phone-title">
      <h2 id="phone-title">{t('phoneTitle')}</h2>
      {notice && (
        <p className={notice.kind} role={notice.kind === 'alert' ? 'alert' : 'status'} ref={noticeRef} tabIndex={-1}>
          {notice.text}
        </p>
      )}
      <p className="visually-hidden" aria-live="assertive" aria-atomic="true" data-testid="request-announcement">
        {announcement}
      </p>
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
          {push && (
            <section aria-labelledby="push-title" className="push">
              <h3 id="push-title">{tn('pushTitle')}</h3>
              {push.state === 'ask' && !pushDismissed ? (
                <>
                  <p id="push-ask">{tn('pushAsk')}</p>
                  <p className="hint">{tn('pushPrivacy')}</p>
                  <div className="actions">
                    <button type="button" aria-describedby="push-ask" disabled={pushBusy} onClick={() => void enablePush()}>
                      {pushBusy ? tn('pushEnabling') : tn('pushEnable')}
                    </button>
                    <button type="button" className="secondary" disabled={pushBusy} onClick={dismissPush}>
                      {tn('pushLater')}
                    </button>
                  </div>
                </>
              ) : (
                <>
                  <p className="hint" id="push-status" ref={pushStatus} tabIndex={-1} aria-live="polite">
                    {pushLine(push)}
                  </p>
                  {push.state === 'ask' && (
                    <button type="button" className="secondary" disabled={pushBusy} onClick={() => void enablePush()}>
                      {pushBusy ? tn('pushEnabling') : tn('pushEnable')}
                    </button>
                  )}
                </>
              )}
            </section>
          )}
          {request ? (
            <section aria-labelledby="request-title">
              <h3 id="request-title" ref={requestHeading} tabIndex={-1}>
                {t('requestTitle')}
              </h3>
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
              {request.verificationCodeChoices && <p id="pick-code">{t('pickCode')}</p>}
              <div className="actions" role="group" aria-label={t('pickCode')}>
                {(request.verificationCodeChoices ?? ['OK']).map((c) => (
                  <button key={c} type="button" className="code" disabled={busy} onClick={() => void answer(c)}>
                    {request.verificationCodeChoices ? c : t('confirm')}
                  </button>
                ))}
                <button type="button" className="secondary" disabled={busy} onClick={() => void answer(null)}>
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
          <History client={phone.client} onSigned={() => persist(phone)} freshness={historyFreshness} />
          <OfficeHistory client={phone.client} onSigned={() => persist(phone)} />
          <Consents client={phone.client} onSigned={() => persist(phone)} />
          <h3>{t('deviceTitle')}</h3>
          <p>{t('deviceId', { id: phone.client.deviceId })}</p>
          {confirmingRemove ? (
            <div role="group" aria-labelledby="remove-ask">
              <p id="remove-ask">{t('removeAsk')}</p>
              <div className="actions">
                <button type="button" className="danger" ref={removeYes} disabled={busy} onClick={() => void remove()}>
                  {t('removeYes')}
                </button>
                <button type="button" className="secondary" disabled={busy} onClick={cancelRemove}>
                  {t('removeNo')}
                </button>
              </div>
            </div>
          ) : (
            <button type="button" ref={removeButton} disabled={busy} onClick={askRemove}>
              {t('removeDevice')}
            </button>
          )}
        </>
      )}
    </section>
  );
}
