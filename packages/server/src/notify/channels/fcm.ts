import { SignJWT, importPKCS8, type CryptoKey } from 'jose';
import type { PushOutcome, PushProvider, WakePayload } from './push.ts';
import { pushHttpOutcome } from './push.ts';

export interface FcmConfig {
  /** Base URL of the FCM HTTP v1 API; tests point it at a local server. */
  readonly endpoint: string;
  /** OAuth 2.0 token endpoint the service-account assertion is exchanged at. */
  readonly tokenUrl: string;
  readonly projectId: string;
  readonly clientEmail: string;
  /** The service account's RSA private key (PKCS#8 PEM). */
  readonly privateKey: string;
}

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** Firebase Cloud Messaging HTTP v1 with a service-account OAuth 2.0 access token. */
export class FcmProvider implements PushProvider {
  readonly #config: FcmConfig;
  #key: CryptoKey | undefined;
  #token: { value: string; until: number } | undefined;

  constructor(config: FcmConfig) {
    this.#config = config;
  }

  async #accessToken(): Promise<string> {
    const now = Date.now();
    if (this.#token && this.#token.until > now) return this.#token.value;
    this.#key ??= await importPKCS8(this.#config.privateKey, 'RS256');
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(this.#config.clientEmail)
      .setAudience(this.#config.tokenUrl)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(this.#key);
    const response = await fetch(this.#config.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
    if (!response.ok || typeof body.access_token !== 'string') throw new Error(`FCM token endpoint answered ${response.status}`);
    // Renew a minute early so a token never expires between check and use.
    this.#token = { value: body.access_token, until: now + Math.max(60, (body.expires_in ?? 3600) - 60) * 1000 };
    return body.access_token;
  }

  async send(address: string, payload: WakePayload): Promise<PushOutcome> {
    let answer = await this.#post(address, payload);
    if (answer.status === 401) {
      // The access token was revoked or expired early: fetch a new one and try again at once.
      this.#token = undefined;
      answer = await this.#post(address, payload);
    }
    const { status, body } = answer;
    if (status >= 200 && status < 300) return { ok: true, id: body.name?.split('/').pop() };
    if (status === 401) {
      this.#token = undefined;
      return { ok: false, gone: false, permanent: false, error: 'fcm answered 401 twice with fresh access tokens' };
    }
    const unregistered = body.error?.status === 'UNREGISTERED' || body.error?.status === 'NOT_FOUND';
    return pushHttpOutcome('fcm', status, unregistered ? [status] : [404], body.error?.status ?? '');
  }

  async #post(address: string, payload: WakePayload): Promise<{ status: number; body: { name?: string; error?: { status?: string } } }> {
    const token = await this.#accessToken();
    const url = `${this.#config.endpoint.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(this.#config.projectId)}/messages:send`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        message: {
          token: address,
          data: { v: String(payload.v), type: payload.type, kind: payload.kind, ref: payload.ref },
          android: { priority: 'HIGH', ttl: '120s' },
        },
      }),
      redirect: 'error',
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json().catch(() => ({}))) as { name?: string; error?: { status?: string } };
    return { status: response.status, body };
  }
}
