import { TasdiqApiError } from './device-client.ts';

export interface StartedSession {
  readonly sessionId: string;
  readonly sessionToken: string;
  readonly mode: 'app' | 'device_link' | 'sms_otp';
  readonly state: 'pending' | 'complete';
  readonly result: string | null;
  readonly verificationCode: string | null;
  readonly qrStartSecret: string | null;
  readonly expiresAt: number;
}

export interface SessionView {
  readonly sessionId: string;
  readonly state: 'pending' | 'complete';
  readonly result: string | null;
  readonly assurance: string | null;
  readonly subject: { pinfl: string } | null;
  readonly jws: string | null;
}

async function call<T>(url: string, init: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const body = (await response.json()) as T & { code?: string; title?: string };
  if (!response.ok) throw new TasdiqApiError({ status: response.status, code: body.code ?? 'http_error', title: body.title ?? '' });
  return body;
}

/** The relying party's side: start a session, poll its result. */
export class SessionClient {
  readonly #server: string;
  constructor(server: string) {
    this.#server = server;
  }

  start(body: { pinfl?: string; phone?: string; serviceId: string; serviceName: string; reason?: string; mode?: 'app' | 'device_link' | 'sms_otp'; interaction?: 'verification_code_choice' | 'confirmation_message'; origin?: string }): Promise<StartedSession> {
    return call(`${this.#server}/api/v1/auth/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  startSigning(body: { pinfl?: string; phone?: string; serviceId: string; serviceName: string; documentHash: string; documentName: string }): Promise<StartedSession> {
    return call(`${this.#server}/api/v1/sign/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  result(session: { sessionId: string; sessionToken: string }, timeoutMs = 0): Promise<SessionView> {
    return call(`${this.#server}/api/v1/auth/sessions/${session.sessionId}?timeoutMs=${timeoutMs}`, { headers: { authorization: `Bearer ${session.sessionToken}` } });
  }
}
