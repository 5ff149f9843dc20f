import type { JsonWebKey } from './webcrypto-types.ts';
import { activationMessage, canonicalRequest, HEADERS, keyAttestationChallenge } from './protocol.ts';
import { exportDeviceKey, generateDeviceKey, importDeviceKey, signES256, type DeviceKey } from './keys.ts';

export interface PendingRequest {
  readonly sessionId: string;
  readonly kind: 'auth' | 'sign';
  readonly mode: 'app' | 'device_link' | 'sms_otp';
  readonly service: string;
  readonly reason: string | null;
  /** `confirmation_message`: show `confirmationMessage` to confirm instead of the code choice. */
  readonly interaction: 'verification_code_choice' | 'confirmation_message';
  readonly confirmationMessage: string | null;
  readonly signingInput: string;
  readonly verificationCodeChoices: string[] | null;
  readonly documentName: string | null;
  readonly documentHash: string | null;
  readonly expiresAt: number;
}

/** What the phone is told of the request it answered (the result JWS goes to the relying party). */
export interface DeviceOutcome {
  readonly sessionId: string;
  readonly kind: 'auth' | 'sign';
  readonly state: 'pending' | 'complete';
  readonly result: string | null;
  readonly assurance: 'low' | 'substantial' | 'high' | null;
  readonly completedAt: number | null;
}

/** A service the citizen allowed to receive these scopes (claims), named in the language asked for. */
export interface ServiceConsent {
  readonly clientId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly grantedAt: number;
}

export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
}

/**
 * A problem+json answer from the service; branch on `code`. `title` is the text for people, in
 * the language the client asked for (its `locale`, sent as Accept-Language).
 */
export class TasdiqApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  constructor(problem: Problem) {
    super(`${problem.code}: ${problem.title}`);
    this.name = 'TasdiqApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
  }
}

/** How the service can wake this app (`GET /api/v1/device/push-config`, public). */
export interface PushConfig {
  /** The VAPID public key (base64url, uncompressed P-256) for `pushManager.subscribe`; null: no Web Push. */
  readonly webPush: { readonly applicationServerKey: string } | null;
  readonly fcm: boolean;
  readonly apns: boolean;
}

/** A Web Push subscription as `PushSubscription.toJSON()` gives it (extra members are dropped). */
export interface WebPushSubscriptionJson {
  readonly endpoint?: string | undefined;
  readonly keys?: Readonly<Record<string, string>> | undefined;
}

/** Native apps register their FCM or APNs token instead. */
export type NativePushTarget = { readonly kind: 'fcm' | 'apns'; readonly token: string };

/** One line of the citizen's history (`GET /api/v1/device/history`), newest first. */
export interface HistoryItem {
  readonly id: string;
  /** ISO 8601. */
  readonly at: string;
  /** `sign_in` and `signature` carry a result; `device` and `enrollment` an action. */
  readonly type: 'sign_in' | 'signature' | 'device' | 'enrollment';
  readonly action: string;
  /** OK, USER_REFUSED, TIMEOUT, WRONG_VC, NOT_ACTIVATED, DEVICE_REVOKED, DELIVERY_FAILED, CANCELLED. */
  readonly result: string | null;
  readonly mode: string | null;
  readonly service: string | null;
  readonly documentName: string | null;
  readonly office: string | null;
  /** Whether the event concerns the device asking (its activation, its own answers). */
  readonly thisDevice: boolean;
}

export interface HistoryPage {
  readonly items: readonly HistoryItem[];
  /** Pass as `before` for the next (older) page; null on the last one. */
  readonly next: string | null;
}

/**
 * A platform key store's attestation of the two keys, as the activation sends it: Android's
 * certificate chains (DER, base64, leaf first) as `KeyStore.getCertificateChain` returns them for
 * keys generated with `setAttestationChallenge(challenge)`, or Apple's App Attest attestation.
 */
export type KeyAttestation =
  | {
      readonly format: 'android-key';
      readonly authChain: readonly string[];
      readonly signChain: readonly string[];
    }
  | {
      /**
       * Apple App Attest: the app attests a Secure Enclave key with `DCAppAttestService.attestKey`,
       * passing the challenge as the client data hash; both device keys are in the Secure Enclave.
       */
      readonly format: 'apple-appattest';
      /** As `generateKey` returned it: base64 of SHA-256 of the attested public key. */
      readonly keyId: string;
      /** The CBOR attestation object `attestKey` returned, base64. */
      readonly attestationObject: string;
    };

/**
 * Makes the passkey that will check the citizen (PIN or biometrics) before each confirmation:
 * `navigator.credentials.create` with user verification required and `challenge` (the key
 * attestation challenge of these keys) as its challenge, answered as RegistrationResponseJSON.
 */
export type UserVerifier = (challenge: Uint8Array) => Promise<object>;

/**
 * Attests the freshly generated keys: given both public keys (base64url SPKI) and the challenge
 * (`keyAttestationChallenge`), the key store's attestation. WebCrypto keys have no attestation; a
 * native app's bridge to its key store, or a test's stand-in for one, supplies this.
 */
export type KeyAttestor = (keys: { readonly authKey: string; readonly signKey: string; readonly challenge: Uint8Array }) => Promise<KeyAttestation>;

export interface DeviceState {
  readonly server: string;
  readonly deviceId: string;
  counter: number;
  readonly authKey: DeviceKey;
  readonly signKey: DeviceKey;
  readonly authCertificate: string;
  readonly signCertificate: string;
  readonly caCertificate: string;
}

export interface SavedDeviceState {
  readonly server: string;
  readonly deviceId: string;
  readonly counter: number;
  readonly authKey: { jwk: JsonWebKey; spki: string };
  readonly signKey: { jwk: JsonWebKey; spki: string };
  readonly authCertificate: string;
  readonly signCertificate: string;
  readonly caCertificate: string;
}

async function answer<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    // Not JSON (a proxy's error page): an error answer keeps its status; a success cannot be read.
    if (response.ok) throw new TasdiqApiError({ status: response.status, code: 'http_error', title: response.statusText });
  }
  if (!response.ok) {
    const p = (body ?? {}) as Partial<Problem>;
    throw new TasdiqApiError({ status: response.status, code: p.code ?? 'http_error', title: p.title ?? response.statusText, ...(p.detail ? { detail: p.detail } : {}) });
  }
  return body as T;
}

/**
 * The app's side of the device protocol: activation, then requests signed with the
 * authentication key and a counter that only grows. Requests of one device are sent one at
 * a time, so counters arrive in order.
 */
/** How far a lagging counter jumps: more than the requests an app can lose unsaved. */
const COUNTER_RESYNC_STEP = 64;

export class DeviceClient {
  readonly state: DeviceState;
  /**
   * Stores the state durably (the app's IndexedDB) after the counter moves and before the
   * request leaves. A page closed or reloaded mid-request then never restarts behind a
   * counter the server has already seen, which would make its next requests replays.
   */
  persistState: ((state: DeviceState) => Promise<unknown>) | undefined;
  /**
   * The language of the person using the app (a BCP 47 tag such as `uz-Latn` or `ru`), sent as
   * Accept-Language on every request: problems come back with their `title` in it.
   */
  locale: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #now: () => number;
  /** The caller's HTTP transport; the global `fetch` (looked up at each call) when none. */
  readonly #fetch: typeof fetch | undefined;

  constructor(state: DeviceState, options: { now?: () => number; locale?: string | undefined; fetch?: typeof fetch } = {}) {
    this.state = state;
    this.#now = options.now ?? Date.now;
    this.locale = options.locale;
    this.#fetch = options.fetch;
  }

  get deviceId(): string {
    return this.state.deviceId;
  }

  /**
   * Activates with the operator's code: two new keys, both proving possession. With
   * `keyAttestation` the keys' attestation goes along; a verified one makes the device
   * hardware-backed (`keyStorage: 'hardware'`), which the `high` level needs.
   */
  static async activate(
    server: string,
    activationCode: string,
    options: {
      label?: string;
      extractable?: boolean;
      now?: () => number;
      locale?: string | undefined;
      keyAttestation?: KeyAttestor;
      userVerification?: UserVerifier;
      /** The HTTP transport (default: the global `fetch`), kept for every later request. */
      fetch?: typeof fetch;
    } = {},
  ): Promise<DeviceClient> {
    const authKey = await generateDeviceKey(options.extractable ?? false);
    const signKey = await generateDeviceKey(options.extractable ?? false);
    const message = activationMessage(activationCode, authKey.spki, signKey.spki);
    const challenge = await keyAttestationChallenge(activationCode, authKey.spki, signKey.spki);
    const keyAttestation = options.keyAttestation ? await options.keyAttestation({ authKey: authKey.spki, signKey: signKey.spki, challenge }) : undefined;
    const userVerification = options.userVerification ? await options.userVerification(challenge) : undefined;
    const body = {
      activationCode,
      authKey: authKey.spki,
      signKey: signKey.spki,
      authProof: await signES256(authKey, message),
      signProof: await signES256(signKey, message),
      ...(options.label ? { label: options.label } : {}),
      ...(keyAttestation ? { keyAttestation } : {}),
      ...(userVerification ? { userVerification } : {}),
    };
    const result = await answer<{ deviceId: string; counter: number; authCertificate: string; signCertificate: string; caCertificate: string }>(
      await (options.fetch ?? fetch)(`${server}/api/v1/device/activate`, { method: 'POST', headers: { 'content-type': 'application/json', ...languageHeader(options.locale) }, body: JSON.stringify(body) }),
    );
    return new DeviceClient(
      { server, deviceId: result.deviceId, counter: result.counter, authKey, signKey, authCertificate: result.authCertificate, signCertificate: result.signCertificate, caCertificate: result.caCertificate },
      { ...(options.now ? { now: options.now } : {}), locale: options.locale, ...(options.fetch ? { fetch: options.fetch } : {}) },
    );
  }

  static async restore(saved: SavedDeviceState, options: { fetch?: typeof fetch } = {}): Promise<DeviceClient> {
    return new DeviceClient({ ...saved, authKey: await importDeviceKey(saved.authKey), signKey: await importDeviceKey(saved.signKey) }, options);
  }

  async save(): Promise<SavedDeviceState> {
    const { authKey, signKey, ...rest } = this.state;
    return { ...rest, authKey: await exportDeviceKey(authKey), signKey: await exportDeviceKey(signKey) };
  }

  /** Builds the signed headers for one request; exposed so tests can replay or tamper. */
  async signRequest(method: string, path: string, body: string): Promise<Record<string, string>> {
    const counter = ++this.state.counter;
    const timestamp = this.#now();
    const message = await canonicalRequest({ method, path, deviceId: this.state.deviceId, counter, timestamp, body });
    return {
      [HEADERS.device]: this.state.deviceId,
      [HEADERS.counter]: String(counter),
      [HEADERS.timestamp]: String(timestamp),
      [HEADERS.signature]: await signES256(this.state.authKey, message),
    };
  }

  request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, payload?: unknown): Promise<T> {
    const send = async () => {
      const body = payload === undefined ? '' : JSON.stringify(payload);
      const headers = await this.signRequest(method, path, body);
      await this.persistState?.(this.state);
      if (body) headers['content-type'] = 'application/json';
      Object.assign(headers, languageHeader(this.locale));
      return answer<T>(await (this.#fetch ?? fetch)(`${this.state.server}${path}`, { method, headers, ...(body ? { body } : {}) }));
    };
    const run = async () => {
      try {
        return await send();
      } catch (error) {
        // The stored counter is behind what the server accepted (an app restored from an older
        // copy of its state). Counters only have to grow, so jump ahead once and sign anew; the
        // server still refuses every true replay, which carries an old signature.
        if (!(error instanceof TasdiqApiError && error.code === 'device_request_replayed')) throw error;
        this.state.counter += COUNTER_RESYNC_STEP;
        return send();
      }
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async pending(): Promise<PendingRequest | null> {
    return (await this.request<{ request: PendingRequest | null }>('GET', '/api/v1/device/requests/pending')).request;
  }

  /**
   * Confirms with the code the citizen picked and the right key's signature over the signing
   * input. `userVerification` is the passkey's assertion over
   * `userVerificationChallenge(request.signingInput)`, which a device that registered a passkey
   * at activation must send.
   */
  async confirm(request: PendingRequest, chosenCode?: string, options: { userVerification?: object | undefined } = {}): Promise<DeviceOutcome> {
    const key = request.kind === 'sign' ? this.state.signKey : this.state.authKey;
    const signature = await signES256(key, request.signingInput);
    return this.request('POST', `/api/v1/device/requests/${request.sessionId}/confirm`, {
      signature,
      ...(chosenCode ? { verificationCode: chosenCode } : {}),
      ...(options.userVerification ? { userVerification: options.userVerification } : {}),
    });
  }

  async refuse(request: PendingRequest): Promise<DeviceOutcome> {
    return this.request('POST', `/api/v1/device/requests/${request.sessionId}/refuse`);
  }

  async link(qr: string): Promise<PendingRequest> {
    return (await this.request<{ request: PendingRequest }>('POST', '/api/v1/device/link', { qr })).request;
  }

  async me(): Promise<{ deviceId: string; status: string; counter: number; assurance: string; keyStorage: 'software' | 'hardware'; userVerification: 'passkey' | 'app' }> {
    return this.request('GET', '/api/v1/device/me');
  }

  /** The services the citizen allowed; `lang` picks the language of their names. */
  async consents(lang?: string): Promise<ServiceConsent[]> {
    const query = lang ? `?lang=${encodeURIComponent(lang)}` : '';
    return (await this.request<{ items: ServiceConsent[] }>('GET', `/api/v1/device/consents${query}`)).items;
  }

  /** Withdraws consent: the service's tokens stop working and its next sign-in asks again. */
  async withdrawConsent(clientId: string): Promise<void> {
    await this.request<undefined>('DELETE', `/api/v1/device/consents/${encodeURIComponent(clientId)}`);
  }

  async revoke(): Promise<{ status: string }> {
    return this.request('POST', '/api/v1/device/revoke');
  }

  /** How the service can wake the app: public, unsigned, the same for every device. */
  async pushConfig(): Promise<PushConfig> {
    return answer<PushConfig>(await (this.#fetch ?? fetch)(`${this.state.server}/api/v1/device/push-config`, { headers: { accept: 'application/json', ...languageHeader(this.locale) } }));
  }

  /**
   * Tells the service where to wake this device: a Web Push subscription (the browser's
   * `PushSubscription.toJSON()`), or a native app's FCM/APNs token. Registering again is harmless.
   */
  async registerPushTarget(target: WebPushSubscriptionJson | NativePushTarget): Promise<{ pushTargetId: string }> {
    const body =
      'kind' in target
        ? { kind: target.kind, token: target.token }
        : { kind: 'webpush', subscription: { endpoint: target.endpoint, keys: { p256dh: target.keys?.p256dh, auth: target.keys?.auth } } };
    return this.request('PUT', '/api/v1/device/push-target', body);
  }

  /** The citizen's sign-ins, signatures and enrollment events, newest first, a page at a time. */
  async history(options: { before?: string | undefined; limit?: number | undefined } = {}): Promise<HistoryPage> {
    const query = new URLSearchParams();
    if (options.before) query.set('before', options.before);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const text = query.toString();
    return this.request('GET', `/api/v1/device/history${text ? `?${text}` : ''}`);
  }
}

function languageHeader(locale: string | undefined): Record<string, string> {
  return locale ? { 'accept-language': locale } : {};
}
