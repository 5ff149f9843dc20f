import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { SignJWT, compactVerify, decodeProtectedHeader, type CryptoKey, type KeyObject } from 'jose';
import { TasdiqApiError } from './device-client.ts';

/**
 * The Mobile-ID REST API for a relying party's server (docs/api/mobile-id.md). Node only: the
 * session token and the result must stay on the integrator's server, never in a browser.
 * The types mirror the schemas in /openapi.json; a test checks both against the document.
 */

export type MobileIdResult = 'OK' | 'USER_REFUSED' | 'TIMEOUT' | 'WRONG_VC' | 'NOT_ACTIVATED' | 'DEVICE_REVOKED' | 'DELIVERY_FAILED' | 'CANCELLED';
export type MobileIdMode = 'app' | 'device_link' | 'sms_otp';
export type MobileIdInteraction = 'verification_code_choice' | 'confirmation_message';

/** Exactly one of the citizen's PINFL (14 digits) or phone number. */
export type MobileIdSubject = { readonly pinfl: string; readonly phone?: never } | { readonly phone: string; readonly pinfl?: never };

export type AuthenticationRequest = MobileIdSubject & {
  /** Your registered client id; it becomes the result's `aud`. */
  readonly serviceId: string;
  /** Shown to the citizen on the phone. */
  readonly serviceName: string;
  readonly reason?: string;
  /** `confirmation_message`: the citizen reads `reason` on the phone and confirms it. */
  readonly interaction?: MobileIdInteraction;
};

/**
 * An authentication may carry your own challenge (base64url SHA-256 of random bytes you keep),
 * as Smart-ID's authentication hash: the citizen's signature then covers it.
 */
export type AuthenticationStart = AuthenticationRequest & { readonly challengeHash?: string };

export type SigningRequest = AuthenticationRequest & {
  readonly documentName: string;
} & ({ readonly documentHash: string; readonly document?: never } | { readonly document: Uint8Array; readonly documentHash?: never });

export interface StartedMobileIdSession {
  readonly sessionId: string;
  readonly sessionToken: string;
  readonly mode: MobileIdMode;
  readonly interaction: MobileIdInteraction;
  readonly state: 'pending' | 'complete';
  readonly result: MobileIdResult | null;
  /** Show these four digits to the citizen; they pick the same code on the phone. */
  readonly verificationCode: string | null;
  readonly qrStartSecret: string | null;
  readonly expiresAt: number;
}

export interface MobileIdSessionView {
  readonly sessionId: string;
  readonly kind: 'auth' | 'sign';
  readonly mode: MobileIdMode;
  readonly state: 'pending' | 'complete';
  readonly result: MobileIdResult | null;
  readonly assurance: 'high' | 'substantial' | 'low' | null;
  readonly subject: { readonly pinfl: string } | null;
  readonly jws: string | null;
  readonly expiresAt: number;
  readonly completedAt: number | null;
}

export interface VerifiedMobileIdResult {
  readonly pinfl: string;
  /** The signer's certificate (x5c[0]), already checked against the trusted CA. */
  readonly certificate: X509Certificate;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly jws: string;
}

/** The long poll ended before the session did. */
export class MobileIdTimeoutError extends Error {
  constructor() {
    super('the Mobile-ID session did not complete in time');
    this.name = 'MobileIdTimeoutError';
  }
}

/** A result that does not verify: never accept the sign-in or the signature. */
export class MobileIdVerificationError extends Error {
  constructor(reason: string) {
    super(`the Mobile-ID result does not verify: ${reason}`);
    this.name = 'MobileIdVerificationError';
  }
}

/** The server answers a long poll within this many milliseconds at most. */
const MAX_WAIT_MS = 30_000;

export const documentHash = (document: Uint8Array) => createHash('sha256').update(document).digest('base64url');

export interface MobileIdClientOptions {
  readonly baseUrl: string;
  /**
   * The Tasdiq CA certificate (PEM) every result must chain to. Pin it from a trusted
   * channel; without it the client fetches the CA from `baseUrl` once, which trusts that host.
   */
  readonly trustedCa?: string;
  readonly fetch?: typeof fetch;
  /**
   * Authenticates your service when starting sessions: returns a fresh RFC 7523 client
   * assertion for the endpoint path (see `privateKeyJwt`).
   */
  readonly clientAssertion?: (path: string) => Promise<string>;
}

/**
 * Client assertions signed with your registered private key: `iss` = `sub` = `clientId`,
 * `aud` = Tasdiq's public URL + the endpoint path, valid 60 s, a random `jti` each time.
 */
export function privateKeyJwt(options: { clientId: string; privateKey: CryptoKey | KeyObject; alg?: 'ES256' | 'PS256' | 'EdDSA'; publicUrl: string; kid?: string }) {
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  return (path: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: options.alg ?? 'ES256', typ: 'JWT', ...(options.kid ? { kid: options.kid } : {}) })
      .setIssuer(options.clientId)
      .setSubject(options.clientId)
      .setAudience(publicUrl + path)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(options.privateKey);
}

export class MobileIdClient {
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #clientAssertion: ((path: string) => Promise<string>) | undefined;
  #ca: Promise<X509Certificate> | undefined;

  constructor(options: MobileIdClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? fetch;
    this.#clientAssertion = options.clientAssertion;
    if (options.trustedCa) this.#ca = Promise.resolve(new X509Certificate(options.trustedCa));
  }

  async #call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.#fetch(this.#baseUrl + path, init);
    const text = await response.text();
    const body = (text ? JSON.parse(text) : {}) as T & { code?: string; title?: string; detail?: string };
    if (!response.ok) {
      throw new TasdiqApiError({ status: response.status, code: body.code ?? 'http_error', title: body.title ?? response.statusText, ...(body.detail ? { detail: body.detail } : {}) });
    }
    return body;
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    const authorization = this.#clientAssertion ? { authorization: `Bearer ${await this.#clientAssertion(path)}` } : {};
    return this.#call<T>(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...authorization }, body: JSON.stringify(body) });
  }

  /** Starts an authentication; Tasdiq makes the random challenge the phone signs. */
  startAuthentication(request: AuthenticationStart): Promise<StartedMobileIdSession> {
    return this.#post('/api/v1/auth/sessions', { ...authenticationBody(request), ...(request.challengeHash ? { hash: request.challengeHash } : {}) });
  }

  /** Starts signing a document: its SHA-256 is what the citizen's signing key signs over. */
  startSigning(request: SigningRequest): Promise<StartedMobileIdSession> {
    return this.#post('/api/v1/sign/sessions', signingBody(request));
  }

  /** One read of the session, waiting up to `waitMs` (at most 30 s) for it to complete. */
  getSession(session: Pick<StartedMobileIdSession, 'sessionId' | 'sessionToken'>, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<MobileIdSessionView> {
    const waitMs = Math.max(0, Math.min(MAX_WAIT_MS, Math.floor(options.waitMs ?? 0)));
    return this.#call(`/api/v1/auth/sessions/${encodeURIComponent(session.sessionId)}?timeoutMs=${waitMs}`, {
      headers: { authorization: `Bearer ${session.sessionToken}`, accept: 'application/json' },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Withdraws a session the citizen gave up on (it ends CANCELLED); a finished one is returned as it is. */
  cancel(session: Pick<StartedMobileIdSession, 'sessionId' | 'sessionToken'>): Promise<MobileIdSessionView> {
    return this.#call(`/api/v1/auth/sessions/${encodeURIComponent(session.sessionId)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session.sessionToken}`, accept: 'application/json' },
    });
  }

  /**
   * Long-polls until the session completes. Gives up with MobileIdTimeoutError after
   * `timeoutMs` (default: until the session expires, plus a margin for the server's sweep),
   * and rejects with the signal's reason when `signal` aborts.
   */
  async waitForResult(session: Pick<StartedMobileIdSession, 'sessionId' | 'sessionToken' | 'expiresAt'>, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<MobileIdSessionView> {
    const deadline = Date.now() + (options.timeoutMs ?? Math.max(0, session.expiresAt - Date.now()) + 5_000);
    for (;;) {
      options.signal?.throwIfAborted();
      const remaining = deadline - Date.now();
      const view = await this.getSession(session, { waitMs: Math.max(0, remaining), ...(options.signal ? { signal: options.signal } : {}) });
      if (view.state === 'complete') return view;
      if (deadline - Date.now() <= 0) throw new MobileIdTimeoutError();
    }
  }

  /** The CA results must chain to: the pinned one, or the one the service publishes. */
  trustedCa(): Promise<X509Certificate> {
    return (this.#ca ??= this.#fetch(`${this.#baseUrl}/api/v1/device/ca/certificate`).then(async (response) => {
      if (!response.ok) throw new TasdiqApiError({ status: response.status, code: 'ca_unavailable', title: response.statusText });
      return new X509Certificate(await response.text());
    }).catch((error: unknown) => {
      this.#ca = undefined;
      throw error;
    }));
  }

  /**
   * Checks an OK result: the JWS signature with the certificate in x5c, that certificate's
   * issue by the trusted CA and its validity at signing time, and that the payload names this
   * session, this service, (for signing) this document hash and (for `confirmation_message`,
   * when `message` is given) the text the citizen confirmed.
   */
  async verifyResult(view: MobileIdSessionView, expected: { readonly serviceId: string; readonly documentHash?: string; readonly challengeHash?: string; readonly message?: string }): Promise<VerifiedMobileIdResult> {
    if (view.result !== 'OK' || !view.jws || !view.subject) throw new MobileIdVerificationError(`result is ${view.result ?? 'pending'}`);
    const jws = view.jws;
    const header = decodeProtectedHeader(jws);
    const typ = view.kind === 'sign' ? 'tasdiq-signature+jws' : 'tasdiq-auth+jws';
    if (header.alg !== 'ES256' || header.typ !== typ) throw new MobileIdVerificationError('unexpected alg or typ');
    const leafDer = header.x5c?.[0];
    if (!leafDer) throw new MobileIdVerificationError('no x5c certificate');
    const certificate = new X509Certificate(Buffer.from(leafDer, 'base64'));
    const ca = await this.trustedCa();
    if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) throw new MobileIdVerificationError('certificate is not issued by the trusted CA');
    const { payload: bytes } = await compactVerify(jws, certificate.publicKey, { algorithms: ['ES256'] }).catch(() => {
      throw new MobileIdVerificationError('bad signature');
    });
    const payload = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    const signedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : NaN;
    if (!(signedAt >= Date.parse(certificate.validFrom) - 60_000 && signedAt <= Date.parse(certificate.validTo))) throw new MobileIdVerificationError('certificate not valid at signing time');
    if (payload.sid !== view.sessionId) throw new MobileIdVerificationError('another session');
    if (payload.aud !== expected.serviceId) throw new MobileIdVerificationError('another service');
    if (payload.sub !== `PNOUZ-${view.subject.pinfl}`) throw new MobileIdVerificationError('another subject');
    if (expected.message !== undefined && payload.msg !== expected.message) throw new MobileIdVerificationError('another confirmation message');
    if (view.kind === 'sign' && (payload.hashAlg !== 'SHA-256' || payload.hash !== expected.documentHash)) throw new MobileIdVerificationError('another document');
    if (view.kind !== 'sign' && expected.challengeHash !== undefined && (payload.hashAlg !== 'SHA-256' || payload.hash !== expected.challengeHash)) {
      throw new MobileIdVerificationError('another challenge');
    }
    return { pinfl: view.subject.pinfl, certificate, payload, jws };
  }
}

function subjectOf(request: MobileIdSubject): { pinfl: string } | { phone: string } {
  return request.pinfl !== undefined ? { pinfl: request.pinfl } : { phone: request.phone! };
}

/** The exact JSON bodies the client sends (exported so the contract test can check them). */
export function authenticationBody(request: AuthenticationRequest): Record<string, unknown> {
  return { ...subjectOf(request), serviceId: request.serviceId, serviceName: request.serviceName, ...(request.reason ? { reason: request.reason } : {}), ...(request.interaction ? { interaction: request.interaction } : {}) };
}

export function signingBody(request: SigningRequest): Record<string, unknown> {
  const hash = request.documentHash ?? documentHash(request.document!);
  return { ...authenticationBody(request), documentHash: hash, documentName: request.documentName };
}
