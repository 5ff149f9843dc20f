import { ApiError } from '../platform/errors.ts';
import type { Authenticator, AuthenticationRequest, PollResult, StartResult } from '../oidc/authenticator.ts';
import { acrRank } from '../clients/vocabulary.ts';
import type { AuthService } from './service.ts';

const PINFL = /^\d{14}$/;

/**
 * The OpenID provider's sign-in pages and CIBA, served by device sessions: the citizen named
 * by the login hint confirms on their phone. The attempt id is the session id; it stays on
 * the server (the provider keeps it in its interaction).
 */
export function createDeviceAuthenticator(auth: AuthService): Authenticator {
  // The weakest acceptable acr of each attempt, to hold the result to it. Kept in memory: an
  // attempt polled on another instance is held to the client's registered minimum only.
  const required = new Map<string, string>();
  return {
    async start(request: AuthenticationRequest): Promise<StartResult> {
      const hint = request.loginHint.trim();
      const subject = PINFL.test(hint) ? { pinfl: hint } : { phone: hint };
      try {
        const started = await auth.start({
          kind: 'auth',
          mode: 'app',
          ...subject,
          clientId: request.client.clientId,
          serviceName: request.client.name['uz-Latn'],
          reason: request.bindingMessage,
          locale: 'uz-Latn',
        });
        if (started.state === 'complete') return { status: 'refused', reason: 'no_device' };
        if (request.acrValues[0]) {
          if (required.size > 100_000) required.clear();
          required.set(started.sessionId, request.acrValues[0]);
        }
        return { status: 'pending', attemptId: started.sessionId, verificationCode: started.verificationCode!, deviceLink: null, smsFallback: false, expiresAt: started.expiresAt };
      } catch (error) {
        if (error instanceof ApiError) {
          if (error.code === 'auth_cooldown' || error.code === 'auth_session_already_pending') return { status: 'refused', reason: 'rate_limited' };
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
          const acr = `urn:tasdiq:acr:${session.assurance ?? 'low'}`;
          // Signed with a device key after a PIN or biometric check on the phone.
          const amr = session.mode === 'sms_otp' ? ['sms', 'otp'] : ['hwk', 'user', 'mfa'];
          const minimum = required.get(attemptId);
          required.delete(attemptId);
          if (acrRank(acr) < 0 || (minimum !== undefined && acrRank(acr) < acrRank(minimum))) return { status: 'failed' };
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
  };
}
