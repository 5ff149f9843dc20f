import { ApiError } from '../platform/errors.ts';
import { BoundedCache } from '../platform/bounded-cache.ts';
import type { Db } from '../platform/db/index.ts';
import { DEFAULT_LOCALE } from '../platform/i18n.ts';
import type { Authenticator, AuthenticationRequest, PollResult, SmsCheck, StartResult } from '../oidc/authenticator.ts';
import { acrRank } from '../clients/vocabulary.ts';
import type { AuthService } from './service.ts';
import { sessionEvents } from './store.ts';
import '../devices/schema.ts';

const PINFL = /^\d{14}$/;
const ACR_LOW = 'urn:tasdiq:acr:low';
/** How long after its expiry an attempt's result may still be asked for. */
const ATTEMPT_RESULT_MS = 600_000;

/**
 * The OpenID provider's sign-in pages and CIBA, served by device sessions: the citizen named
 * by the login hint confirms on their phone, with an SMS code where the client accepts the
 * low level, or with the app through the device-link QR. The attempt id is the session id; it
 * stays on the server (the provider keeps it in its interaction).
 *
 * With the service database (`db`), `amr` names how the confirming device keeps its key
 * (`hwk` only for a device recorded as hardware-backed) and CIBA asks which of its pending
 * attempts are over in one query; without it every app confirmation counts as a software key.
 */
export function createDeviceAuthenticator(auth: AuthService, db?: Db): Authenticator {
  // The weakest acceptable acr of each attempt, to hold the result to it. Kept in memory: an
  // attempt polled on another instance is held to the client's registered minimum only.
  // Kept until the attempt could no longer complete, so asking for the result twice (a page's
  // script and its "check now" button) holds both answers to the same minimum.
  const required = new BoundedCache<string, string>(100_000);
  // An SMS code proves only the low level: offered when the weakest acceptable acr allows it
  // (no acr_values means the client's registered minimum, which poll enforces anyway).
  const allowsLow = (request: AuthenticationRequest) => request.acrValues.length === 0 || acrRank(request.acrValues[0]!) <= acrRank(ACR_LOW);
  // How the confirming device keeps its keys, as its activation recorded it: 'hardware' only
  // after a verified key attestation (devices/attestation.ts).
  const keyStorageOf = async (deviceId: string | null): Promise<string> => {
    if (!db || !deviceId) return 'software';
    const row = await db.selectFrom('devices').select('key_storage').where('id', '=', deviceId).executeTakeFirst();
    return row?.key_storage ?? 'software';
  };

  return {
    async start(request: AuthenticationRequest): Promise<StartResult> {
      const method = request.method ?? 'app';
      if (method === 'sms_otp' && (!allowsLow(request) || !request.origin)) return { status: 'refused', reason: 'unavailable' };
      const hint = request.loginHint.trim();
      const subject = method === 'device_link' && hint === '' ? {} : PINFL.test(hint) ? { pinfl: hint } : { phone: hint };
      // CIBA: no second screen shows a code, so the phone shows the relying party's message.
      const interaction = method === 'app' ? (request.interaction ?? (request.bindingMessage !== undefined ? 'confirmation_message' : 'verification_code_choice')) : 'verification_code_choice';
      const locale = request.locale ?? DEFAULT_LOCALE;
      // The phone speaks the citizen's language, and names the service in it.
      const serviceName = request.client.name[locale] || request.client.name[DEFAULT_LOCALE];
      try {
        const started = await auth.start({
          kind: 'auth',
          mode: method,
          interaction,
          ...subject,
          clientId: request.client.clientId,
          serviceName,
          // Without a binding message the phone still names the service the citizen is at.
          reason: request.bindingMessage ?? (interaction === 'confirmation_message' ? serviceName : undefined),
          origin: request.origin,
          locale,
        });
        if (started.state === 'complete') return { status: 'refused', reason: 'no_device' };
        if (request.acrValues[0]) required.set(started.sessionId, request.acrValues[0], started.expiresAt + ATTEMPT_RESULT_MS);
        return {
          status: 'pending',
          attemptId: started.sessionId,
          verificationCode: started.verificationCode ?? '',
          // The device-link QR changes every second: the page reads it from deviceLinkQr.
          deviceLink: null,
          smsFallback: method === 'app' && allowsLow(request),
          expiresAt: started.expiresAt,
        };
      } catch (error) {
        if (error instanceof ApiError) {
          if (error.code === 'auth_session_already_pending') return { status: 'refused', reason: 'already_pending' };
          if (error.code === 'auth_cooldown' || error.code === 'auth_otp_rate_limited') return { status: 'refused', reason: 'rate_limited' };
          if (error.code === 'validation_failed' || error.code === 'auth_subject_required') return { status: 'refused', reason: 'unknown_citizen' };
        }
        throw error;
      }
    },

    async poll(attemptId: string): Promise<PollResult> {
      const session = await auth.byId(attemptId);
      if (!session) return { status: 'failed' };
      if (session.state === 'pending') return { status: 'pending' };
      switch (session.result) {
        case 'OK': {
          // SMS sessions complete at `low` only (verifyOtp records it); the app at substantial or high.
          const acr = `urn:tasdiq:acr:${session.assurance ?? 'low'}`;
          // An app confirmation is a device-key signature after a PIN or biometric check on the
          // phone: `hwk` only where the device's key is recorded as hardware-backed.
          const amr = session.mode === 'sms_otp' ? ['sms', 'otp'] : ['user', 'mfa', (await keyStorageOf(session.device_id)) === 'hardware' ? 'hwk' : 'swk'];
          const minimum = required.get(attemptId, Date.now());
          if (acrRank(acr) < 0) return { status: 'failed' };
          if (minimum !== undefined && acrRank(acr) < acrRank(minimum)) return { status: 'insufficient', acr };
          // Milliseconds, as the interaction routes expect.
          return { status: 'approved', citizenId: session.citizen_id!, acr, amr, authTime: session.completed_at ?? 0 };
        }
        case 'USER_REFUSED':
          return { status: 'denied' };
        case 'TIMEOUT':
          return { status: 'expired' };
        default:
          return { status: 'failed' };
      }
    },

    async verifySmsCode(attemptId: string, code: string): Promise<SmsCheck> {
      // A typo costs no attempt: only well-formed codes reach the counted check.
      if (!/^[0-9]{6}$/.test(code)) return { status: 'malformed' };
      try {
        const view = await auth.verifyOtpById(attemptId, code);
        return view.result === 'OK' ? { status: 'accepted' } : { status: 'failed' };
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.code === 'auth_otp_wrong') return { status: 'wrong', attemptsLeft: Number(error.params.attemptsLeft ?? 0) };
        if (error.code === 'auth_otp_attempts_exhausted') return { status: 'exhausted' };
        if (error.code === 'auth_session_expired') return { status: 'expired' };
        return { status: 'failed' };
      }
    },

    async cancel(attemptId: string) {
      required.delete(attemptId);
      await auth.cancelById(attemptId).catch((error: unknown) => {
        if (!(error instanceof ApiError)) throw error;
      });
    },

    watch(attemptId: string, listener: () => void) {
      sessionEvents.on(attemptId, listener);
      return () => void sessionEvents.off(attemptId, listener);
    },

    ...(db
      ? {
          async settled(attemptIds: readonly string[]) {
            if (attemptIds.length === 0) return [];
            const rows = await db.selectFrom('auth_sessions').select('id').where('id', 'in', [...attemptIds]).where('state', '=', 'complete').execute();
            return rows.map((r) => r.id);
          },
        }
      : {}),

    async deviceLinkQr(attemptId: string) {
      try {
        return await auth.currentQrById(attemptId);
      } catch (error) {
        if (error instanceof ApiError) return null;
        throw error;
      }
    },
  };
}
