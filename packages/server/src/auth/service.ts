import { createHash } from 'node:crypto';
import { randomBytesPooled } from '../platform/random.ts';
import type { Db } from '../platform/db/index.ts';
import { isUniqueViolation } from '../platform/db/index.ts';
import { following, preparedTogether, writeTogether, type FollowingRow } from '../platform/db/write-together.ts';
import { sql, type Insertable } from 'kysely';
import { prepared } from '../platform/db/prepared.ts';
import { oneOf } from '../platform/db/partial-index.ts';
import { BoundedCache } from '../platform/bounded-cache.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import type { Locale } from '../platform/i18n.ts';
import type { Logger } from '../platform/logger.ts';
import { markDelivered, markDeliveredStatement, notificationRow } from '../notify/outbox.ts';
import { claimOnWrite } from '../notify/local-delivery.ts';
import { GroupCommit } from '../platform/group-commit.ts';
import { TemplateError } from '../notify/templates.ts';
import { auditEventRow } from '../audit/audit.ts';
import { normalizePhone } from '../identity/phone.ts';
import { validatePinfl } from '../identity/pinfl.ts';
import type { CertificateChain, DeviceDependencies, SignInSubject, SubjectProbe } from '../devices/ports.ts';
import type { Device } from '../devices/schema.ts';
import { verifyP256 } from '../platform/p256.ts';
import { advanceCounterQuery, refusalOf, storedP256, type CounterAdvance, type CounterRider, type DeviceProfile } from '../devices/protocol.ts';
import { pinflSerialNumber } from '../devices/ca.ts';
import { AuthErrors } from './errors.ts';
import { DeviceErrors } from '../devices/errors.ts';
import { revokeDevices } from '../devices/service.ts';
import { checkUserVerification } from '../devices/user-verification.ts';
import type { WebAuthnParty } from '../platform/webauthn.ts';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { hashOtp, newOtp, qrAuthCode, qrPayload, safeEqualHex, sha256, verificationChoices, verificationCode } from './codes.ts';
import { completeSession, sessionEvents, type Actor, type Completion } from './store.ts';
import type { Assurance, AuthSession, AuthSessionTable, Interaction, SessionKind, SessionMode, SessionResult } from './schema.ts';

export interface AuthPolicy {
  readonly appTtlMs: number;
  readonly otpTtlMs: number;
  readonly otpMaxAttempts: number;
  /** Refused or wrong-code requests in `cooldownWindowMs` that make new ones wait. */
  readonly cooldownAfter: number;
  readonly cooldownWindowMs: number;
  readonly otpPerPhone: number;
  readonly otpPerPhoneWindowMs: number;
  readonly otpPerClientPerMinute: number;
  /** How long completed sessions are kept before purging (the audit log keeps their history). */
  readonly retentionMs: number;
  /**
   * How long after its push was sent a phone may take to fetch the request before the "open
   * the app" SMS goes anyway (the push was accepted but never shown): long enough for a
   * citizen to pick the phone up, short against the session's two minutes.
   */
  readonly pushFallbackAfterMs: number;
}

export const DEFAULT_POLICY: AuthPolicy = {
  appTtlMs: 120_000,
  otpTtlMs: 300_000,
  otpMaxAttempts: 3,
  cooldownAfter: 3,
  cooldownWindowMs: 600_000,
  otpPerPhone: 3,
  otpPerPhoneWindowMs: 900_000,
  otpPerClientPerMinute: 600,
  retentionMs: 86_400_000,
  pushFallbackAfterMs: 30_000,
};

export interface StartInput {
  readonly kind: SessionKind;
  readonly mode: SessionMode;
  /** For `app` sessions; `verification_code_choice` unless given. */
  readonly interaction?: Interaction | undefined;
  readonly pinfl?: string | undefined;
  readonly phone?: string | undefined;
  readonly clientId: string;
  readonly serviceName: string;
  readonly reason?: string | undefined;
  /** Host name the SMS code is bound to (sms_otp), e.g. my.gov.uz. */
  readonly origin?: string | undefined;
  readonly documentHash?: string | undefined;
  readonly documentName?: string | undefined;
  readonly locale: Locale;
  readonly requestId?: string;
  /** Rows the request owes (its relying party's used assertion): written with the session. */
  readonly alongside?: readonly FollowingRow[] | undefined;
}

export interface StartedSession {
  readonly sessionId: string;
  readonly sessionToken: string;
  readonly mode: SessionMode;
  readonly interaction: Interaction;
  readonly state: 'pending' | 'complete';
  readonly result: SessionResult | null;
  readonly verificationCode: string | null;
  readonly qrStartSecret: string | null;
  readonly expiresAt: number;
}

export interface PendingRequest {
  readonly sessionId: string;
  readonly kind: SessionKind;
  readonly mode: SessionMode;
  readonly interaction: Interaction;
  readonly service: string;
  readonly reason: string | null;
  /** The message the citizen confirms (`confirmation_message`); it is in the signed payload. */
  readonly confirmationMessage: string | null;
  readonly signingInput: string;
  readonly verificationCodeChoices: string[] | null;
  readonly documentName: string | null;
  readonly documentHash: string | null;
  readonly expiresAt: number;
}

export interface SessionView {
  readonly sessionId: string;
  readonly kind: SessionKind;
  readonly mode: SessionMode;
  readonly state: 'pending' | 'complete';
  readonly result: SessionResult | null;
  readonly assurance: Assurance | null;
  readonly subject: { readonly pinfl: string } | null;
  readonly jws: string | null;
  readonly expiresAt: number;
  readonly completedAt: number | null;
}

/**
 * What the phone is told of the request it answered. Not the result JWS nor the citizen's
 * PINFL: the phone holds the signing input and made the signature, and the JWS (the relying
 * party's proof, a few kilobytes with its certificate chain) goes to the relying party only.
 */
export interface DeviceOutcome {
  readonly sessionId: string;
  readonly kind: SessionKind;
  readonly state: 'pending' | 'complete';
  readonly result: SessionResult | null;
  readonly assurance: Assurance | null;
  readonly completedAt: number | null;
}

/** A device as far as its signing input needs it: whose it is and which certificates it has. */
type CertifiedDevice = Pick<Device, 'citizen_id' | 'auth_cert_serial' | 'sign_cert_serial'>;

/** What a signing input is made of: the certificate its header names, and the payload. */
interface SigningParts {
  readonly kind: SessionKind;
  readonly certificate_serial: string | null;
  readonly signing_payload: string | null;
}

const COMPLETED_CACHE_SIZE = 20_000;
/**
 * The result read follows the completion within milliseconds (a long poll is woken by it) or
 * at the relying party's next poll, a second or two later; a read after this goes to the row.
 */
const COMPLETED_CACHE_MS = 15_000;
/** How far each failUndelivered pass reads back over the one before it. */
const FAILURE_OVERLAP_MS = 5_000;
const PENDING_CACHE_SIZE = 50_000;
/** The results the cool-down counts (the partial index auth_sessions_refusals_idx holds these). */
const REFUSALS = ['USER_REFUSED', 'WRONG_VC'] satisfies SessionResult[];

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The PINFL a signing payload names (`sub`: PNOUZ-<pinfl>), read without another query. */
function subjectOf(signingPayload: string | null): string | undefined {
  if (!signingPayload) return undefined;
  const payload = JSON.parse(Buffer.from(signingPayload, 'base64url').toString('utf8')) as { sub?: string };
  return payload.sub?.startsWith('PNOUZ-') ? payload.sub.slice(6) : undefined;
}

const sessionById = prepared((db: Db, args: { sessionId: string }) => db.selectFrom('auth_sessions').selectAll().where('id', '=', args.sessionId));
const pendingForDevice = prepared((db: Db, args: { citizenId: string; deviceId: string }) =>
  db.selectFrom('auth_sessions').selectAll().where('pending_citizen_id', '=', args.citizenId).where('device_id', '=', args.deviceId),
);

/**
 * The device's pending fetch on PostgreSQL, as one statement (one commit): its counter moves
 * forward, its pending session is read, and that session's push is marked delivered (the
 * phone has its request: no "open the app" SMS follows).
 */
const pendingWithCounter = prepared((db: Db, args: CounterAdvance) =>
  db
    .with('advanced', (qc) => advanceCounterQuery(qc, args))
    .with('pending', (qc) =>
      qc
        .selectFrom('auth_sessions')
        .innerJoin('advanced', (join) => join.onRef('auth_sessions.pending_citizen_id', '=', 'advanced.citizen_id').onRef('auth_sessions.device_id', '=', 'advanced.id'))
        .selectAll('auth_sessions'),
    )
    .with('delivered', (qc) =>
      markDeliveredStatement(
        qc,
        (w) => w('correlation_id', 'in', sql<string>`(select pending.id from pending where pending.notification_id is not null and pending.expires_at > ${args.now})`),
        'push',
        args.now,
        true,
      ),
    )
    .selectFrom('advanced')
    .selectAll('advanced')
    // Read whole as JSON: its columns are text and numbers, which JSON keeps as they are.
    .select((eb) => eb.selectFrom('pending').select(sql<AuthSession>`row_to_json(pending)`.as('session')).as('rider')),
);

/** A new session with its audit record (and outbox message): compiled once per shape, as every start writes one. */
const insertSession = preparedTogether((qc, row: Insertable<AuthSessionTable>) => qc.insertInto('auth_sessions').values(row).returning('id'));

/** A device's pending session as its fetch read it, and whether that read marked its push delivered. */
interface PendingRead {
  readonly session: AuthSession | null;
  readonly pushMarked: boolean;
}

/** Sign-in and signing sessions: the states, the rules and the audit trail. */
export class AuthService {
  readonly #db: Db;
  readonly #deps: DeviceDependencies;
  readonly #now: () => number;
  readonly #policy: AuthPolicy;
  readonly #otpPepper: Buffer;
  /**
   * Sessions this process completed, for the relying party's result read that follows: a
   * completed session never changes again, so the copy cannot go stale.
   */
  readonly #completed = new BoundedCache<string, AuthSession>(COMPLETED_CACHE_SIZE);
  /**
   * Sessions shown to their device, for the confirmation that follows. What a confirmation
   * reads of it (device, signing input, code, expiry) never changes once the device holds it;
   * its state may (another instance may have ended it), which the completing UPDATE's
   * `state = 'pending'` condition decides, so a stale copy can never confirm anything.
   */
  readonly #presented = new BoundedCache<string, AuthSession>(PENDING_CACHE_SIZE);
  /** Where the next failUndelivered pass reads failures from (undefined: it has not run). */
  #failuresReadFrom: number | undefined;
  readonly #certificateChain: (serial: string) => Promise<CertificateChain | undefined>;
  readonly #headers = new WeakMap<CertificateChain, Partial<Record<SessionKind, string>>>();
  readonly #party: () => WebAuthnParty;
  readonly #logger: Logger | undefined;
  /** Pushes whose device fetched its request, marked delivered together: one statement per burst. */
  readonly #delivered = new GroupCommit<string, void>(async (sessionIds) => {
    await markDelivered(this.#db, sessionIds, 'push', this.#now());
    return sessionIds.map(() => undefined);
  });

  constructor(options: {
    db: Db;
    deps: DeviceDependencies;
    now: () => number;
    policy?: Partial<AuthPolicy>;
    otpPepper: Buffer;
    /** A device certificate's chain by serial; the same object each time (headers are kept with it). */
    certificateChain: (serial: string) => Promise<CertificateChain | undefined>;
    /** The WebAuthn relying party the browser app's passkeys belong to (user verification). */
    party: () => WebAuthnParty;
    logger?: Logger;
  }) {
    this.#party = options.party;
    this.#logger = options.logger;
    this.#db = options.db;
    this.#deps = options.deps;
    this.#now = options.now;
    this.#policy = { ...DEFAULT_POLICY, ...options.policy };
    this.#otpPepper = options.otpPepper;
    this.#certificateChain = options.certificateChain;
  }

  /**
   * The cool-down probe, a scalar over the citizen: when the `cooldownAfter`-th most recent
   * refusal (or wrong code) since `since` happened, or null while fewer happened.
   */
  readonly #refusalProbe: SubjectProbe = (eb, since) =>
    eb
      .selectFrom('auth_sessions')
      .select('auth_sessions.completed_at')
      .whereRef('auth_sessions.citizen_id', '=', 'citizens.id')
      .where('auth_sessions.completed_at', '>', since)
      .where(oneOf('auth_sessions.result', REFUSALS))
      .orderBy('auth_sessions.completed_at', 'desc')
      .limit(1)
      .offset(this.#policy.cooldownAfter - 1)
      .$asScalar();

  /** The named citizen with their binding, device and cool-down, in one query. */
  async #resolveCitizen(input: StartInput, now: number): Promise<{ pinfl?: string; found?: SignInSubject }> {
    const probe = { build: this.#refusalProbe, value: now - this.#policy.cooldownWindowMs };
    if (input.pinfl !== undefined) {
      const valid = validatePinfl(input.pinfl);
      if (!valid.ok) throw new ApiError(CommonErrors.validation_failed, { errors: [{ field: 'body.pinfl', code: valid.code, message: valid.message, localized: valid.reason }] });
      const pinfl = input.pinfl.trim();
      const found = await this.#deps.directory.signInSubject(this.#db, { pinfl }, probe);
      return found ? { pinfl, found } : { pinfl };
    }
    if (input.phone !== undefined) {
      const phone = normalizePhone(input.phone);
      if (!phone.ok) throw new ApiError(CommonErrors.validation_failed, { errors: [{ field: 'body.phone', code: phone.code, message: phone.message, localized: phone.reason }] });
      const found = await this.#deps.directory.signInSubject(this.#db, { phone: phone.e164 }, probe);
      return found ? { found } : {};
    }
    return {};
  }

  /** `nthRefusalAt`: the probe's answer, the time of the refusal that started the cool-down. */
  #throwIfCoolingDown(nthRefusalAt: number | null, now: number): void {
    if (nthRefusalAt === null) return;
    const seconds = Math.max(1, Math.ceil((nthRefusalAt + this.#policy.cooldownWindowMs - now) / 1000));
    throw new ApiError(AuthErrors.auth_cooldown, { params: { seconds }, headers: { 'retry-after': String(seconds) } });
  }

  /** The same cool-down rule for a citizen already known by id (a device linking a QR). */
  async #checkCooldown(citizenId: string, now: number): Promise<void> {
    const row = await this.#db
      .selectFrom('citizens')
      .select((eb) => this.#refusalProbe(eb, now - this.#policy.cooldownWindowMs).as('at'))
      .where('citizens.id', '=', citizenId)
      .executeTakeFirst();
    this.#throwIfCoolingDown(row?.at === null || row?.at === undefined ? null : Number(row.at), now);
  }

  async #checkOtpLimits(citizenId: string, clientId: string, now: number): Promise<void> {
    const perPhone = await this.#db
      .selectFrom('auth_sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('citizen_id', '=', citizenId)
      .where(oneOf('mode', ['sms_otp']))
      .where('created_at', '>', now - this.#policy.otpPerPhoneWindowMs)
      .executeTakeFirstOrThrow();
    if (Number(perPhone.n) >= this.#policy.otpPerPhone) {
      const seconds = Math.ceil(this.#policy.otpPerPhoneWindowMs / 1000);
      throw new ApiError(AuthErrors.auth_otp_rate_limited, { params: { seconds }, headers: { 'retry-after': String(seconds) } });
    }
    const perClient = await this.#db
      .selectFrom('auth_sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('client_id', '=', clientId)
      .where(oneOf('mode', ['sms_otp']))
      .where('created_at', '>', now - 60_000)
      .executeTakeFirstOrThrow();
    if (Number(perClient.n) >= this.#policy.otpPerClientPerMinute) {
      throw new ApiError(AuthErrors.auth_otp_rate_limited, { params: { seconds: 60 }, headers: { 'retry-after': '60' } });
    }
  }

  /**
   * What the device will sign, for a session about to be shown to `device`: the certificate
   * its signature is made under (the auth or the signing one) and the JWS payload.
   */
  async #signingParts(
    session: { id: string; kind: SessionKind; interaction: Interaction; client_id: string; service_name: string; reason: string | null; document_hash: string | null; document_name: string | null },
    device: CertifiedDevice,
    now: number,
    knownPinfl?: string,
  ): Promise<SigningParts> {
    const pinfl = knownPinfl ?? (await this.#deps.directory.pinflOf(this.#db, device.citizen_id)) ?? '';
    // The message the citizen compared is signed with the rest: a result proves what was shown.
    const shown = session.interaction === 'confirmation_message' ? { msg: session.reason } : {};
    const payload =
      session.kind === 'sign'
        ? { sid: session.id, sub: pinflSerialNumber(pinfl), aud: session.client_id, svc: session.service_name, hash: session.document_hash, hashAlg: 'SHA-256', doc: session.document_name, ...shown, iat: Math.floor(now / 1000) }
        : {
            sid: session.id,
            sub: pinflSerialNumber(pinfl),
            aud: session.client_id,
            svc: session.service_name,
            ...(session.document_hash ? { hash: session.document_hash, hashAlg: 'SHA-256' } : {}),
            ...shown,
            nonce: b64url(randomBytesPooled(16)),
            iat: Math.floor(now / 1000),
          };
    return { kind: session.kind, certificate_serial: session.kind === 'sign' ? device.sign_cert_serial : device.auth_cert_serial, signing_payload: b64url(JSON.stringify(payload)) };
  }

  /** The JWS signing input the device signs, `<header>.<payload>`: its header names the certificate chain. */
  async #signingInput(parts: SigningParts): Promise<string> {
    const chain = parts.certificate_serial === null ? undefined : await this.#certificateChain(parts.certificate_serial);
    if (!chain || parts.signing_payload === null) throw new Error(`no certificate ${parts.certificate_serial ?? '(none)'} for a signing input`);
    return `${this.#encodedHeader(parts.kind, chain)}.${parts.signing_payload}`;
  }

  /** The compact JWS a confirmed session holds: its signing input and the device's signature. */
  async #jws(session: AuthSession): Promise<string | null> {
    return session.signature === null ? null : `${await this.#signingInput(session)}.${session.signature}`;
  }

  /**
   * The signing input's header, encoded: it names only the certificate chain, the same for
   * every session signed under that certificate (two kilobytes of base64, encoded twice), so
   * it is kept with the chain it was made of, and goes when the chain goes.
   */
  #encodedHeader(kind: SessionKind, chain: CertificateChain): string {
    let headers = this.#headers.get(chain);
    if (!headers) this.#headers.set(chain, (headers = {}));
    return (headers[kind] ??= b64url(
      JSON.stringify({ alg: 'ES256', typ: kind === 'sign' ? 'tasdiq-signature+jws' : 'tasdiq-auth+jws', x5c: [Buffer.from(chain.leaf).toString('base64'), Buffer.from(chain.issuer).toString('base64')] }),
    ));
  }

  #auditRow(session: Pick<AuthSession, 'id' | 'citizen_id' | 'client_id' | 'kind' | 'mode'>, action: string, extra: Record<string, unknown>, now: number, requestId?: string) {
    return auditEventRow(
      {
        actorType: 'client',
        actorId: session.client_id,
        action,
        subjectCitizenId: session.citizen_id,
        details: { sessionId: session.id, kind: session.kind, mode: session.mode, clientId: session.client_id, ...extra },
        ...(requestId ? { requestId } : {}),
      },
      now,
    );
  }

  /** Finishes a session with a final result and its audit record, at once (see completeSession). */
  async finish(session: AuthSession, result: SessionResult, actor: Actor = { type: 'client', id: session.client_id }, completion: Completion = {}): Promise<boolean> {
    const now = this.#now();
    const done = await completeSession(this.#db, session, result, now, actor, completion);
    this.#presented.delete(session.id);
    if (done) {
      this.#completed.set(
        session.id,
        {
          ...session,
          state: 'complete',
          result,
          completed_at: now,
          pending_citizen_id: null,
          qr_secret: null,
          otp_hash: null,
          signature: completion.signature ?? session.signature,
          assurance: completion.assurance ?? session.assurance,
          vc_attempts: session.vc_attempts + (completion.countWrongCode ? 1 : 0),
        },
        now + COMPLETED_CACHE_MS,
      );
      sessionEvents.emit(session.id);
    }
    return done;
  }

  async start(input: StartInput): Promise<StartedSession> {
    const now = this.#now();
    if (input.pinfl !== undefined && input.phone !== undefined) throw new ApiError(AuthErrors.auth_subject_required);
    if (input.mode !== 'device_link' && input.pinfl === undefined && input.phone === undefined) throw new ApiError(AuthErrors.auth_subject_required);
    if (input.mode === 'sms_otp' && input.kind === 'sign') throw new ApiError(AuthErrors.auth_mode_mismatch);
    const interaction = input.interaction ?? 'verification_code_choice';
    if (interaction === 'confirmation_message' && input.mode !== 'app') throw new ApiError(AuthErrors.auth_mode_mismatch);
    if (interaction === 'confirmation_message' && !input.reason?.trim()) throw new ApiError(AuthErrors.auth_confirmation_message_required);
    const { pinfl, found } = await this.#resolveCitizen(input, now);
    const citizenId = found?.citizenId;
    const sessionId = `as_${randomBytesPooled(16).toString('base64url')}`;
    const sessionToken = randomBytesPooled(32).toString('base64url');
    const base = {
      id: sessionId,
      kind: input.kind,
      mode: input.mode,
      interaction,
      client_id: input.clientId,
      service_name: input.serviceName,
      reason: input.reason ?? null,
      token_hash: hashToken(sessionToken),
      document_hash: input.documentHash ?? null,
      document_name: input.documentName ?? null,
      created_at: now,
      vc_attempts: 0,
      otp_attempts: 0,
      fallback_notification_id: null,
      signature: null,
      assurance: null,
    };
    const hasSubject = input.pinfl !== undefined || input.phone !== undefined;
    if (found) this.#throwIfCoolingDown(found.extra, now);
    // The active binding: none while the enrollment is suspended or revoked. A device counts
    // only under the binding it was activated with (one left over from a replaced binding is
    // revoked here, should the enrollment module not have done it) and while its certificates
    // are valid.
    const binding = found?.binding;
    let device = found?.device;
    if (device && binding && device.binding_id !== binding.bindingId) {
      const stale = device;
      await this.#db.transaction().execute((tx) => revokeDevices(tx, { citizenId: stale.citizen_id, deviceId: stale.id }, 'binding_revoked', now));
      device = undefined;
    }
    if (device && device.cert_not_after <= now) device = undefined;
    const citizenPhone = binding?.phone;
    // A citizen who was named but has no active app or binding (or does not exist) ends
    // here; the relying party learns no more than "not activated".
    if (hasSubject && (!citizenId || !citizenPhone || (input.mode !== 'sms_otp' && !device))) {
      const row = { ...base, state: 'complete' as const, result: 'NOT_ACTIVATED' as const, citizen_id: citizenId ?? null, pending_citizen_id: null, device_id: null, signing_payload: null, certificate_serial: null, verification_code: null, qr_secret: null, otp_hash: null, notification_id: null, expires_at: now, completed_at: now };
      await writeTogether(this.#db, (qc) => qc.insertInto('auth_sessions').values(row).returning('id'), [following('audit_events', this.#auditRow(row, 'auth.session_completed', { result: 'NOT_ACTIVATED' }, now, input.requestId)), ...(input.alongside ?? [])]);
      return { sessionId, sessionToken, mode: input.mode, interaction, state: 'complete', result: 'NOT_ACTIVATED', verificationCode: null, qrStartSecret: null, expiresAt: now };
    }
    if (input.mode === 'sms_otp') await this.#checkOtpLimits(citizenId!, input.clientId, now);

    let signing: SigningParts | undefined;
    let vc: string | null = null;
    if (device && input.mode === 'app') {
      signing = await this.#signingParts({ ...base, id: sessionId }, device, now, pinfl);
      vc = verificationCode(sha256(await this.#signingInput(signing)));
    }
    const qrSecret = input.mode === 'device_link' ? randomBytesPooled(32).toString('base64url') : null;
    const otp = input.mode === 'sms_otp' ? newOtp() : null;
    const expiresAt = now + (input.mode === 'sms_otp' ? this.#policy.otpTtlMs : this.#policy.appTtlMs);
    let notification: ReturnType<typeof notificationRow> | undefined;
    try {
      if (input.mode === 'app' && device) {
        // Push first; a push that reaches no device falls back to an "open the app" SMS.
        const fallback = citizenPhone ? { fallback: { channel: 'sms' as const, recipient: citizenPhone } } : {};
        // A push the provider took but the phone never acted on falls back too, after a while.
        const fallbackAfter = citizenPhone ? { fallbackAfterMs: this.#policy.pushFallbackAfterMs } : {};
        notification = notificationRow({ kind: input.kind === 'sign' ? 'sign.open_app' : 'auth.open_app', channel: 'push', recipient: device.id, locale: input.locale, params: { service: input.serviceName }, correlationId: sessionId, maxAttempts: 2, ...fallback, ...fallbackAfter }, now);
      } else if (otp && citizenPhone) {
        notification = notificationRow({ kind: 'auth.sms_otp', channel: 'sms', recipient: citizenPhone, locale: input.locale, params: { code: otp, service: input.serviceName, origin: input.origin ?? '' }, correlationId: sessionId, maxAttempts: 3 }, now);
      }
    } catch (error) {
      // Text the route schemas let through but a message template refuses.
      if (error instanceof TemplateError) throw new ApiError(CommonErrors.validation_failed, { errors: [{ field: 'body.serviceName', code: 'template', message: error.message }] });
      throw error;
    }
    const row = {
      ...base,
      state: 'pending' as const,
      result: null,
      citizen_id: citizenId ?? null,
      pending_citizen_id: citizenId ?? null,
      device_id: input.mode === 'device_link' ? null : (device?.id ?? null),
      signing_payload: signing?.signing_payload ?? null,
      certificate_serial: signing?.certificate_serial ?? null,
      verification_code: vc,
      qr_secret: qrSecret,
      otp_hash: otp ? hashOtp(this.#otpPepper, sessionId, otp) : null,
      notification_id: notification?.id ?? null,
      expires_at: expiresAt,
      completed_at: null,
    };
    // The push goes straight to this process's worker, when one can take it (see claimOnWrite).
    const outgoing = notification && claimOnWrite(this.#db, notification, now);
    const rows = [following('audit_events', this.#auditRow(row, 'auth.session_started', {}, now, input.requestId)), ...(outgoing ? [following('notify_outbox', outgoing.row)] : []), ...(input.alongside ?? [])];
    const insert = () => insertSession(this.#db, row, rows);
    try {
      await insert();
    } catch (error) {
      if (!isUniqueViolation(error, 'auth_sessions') || !citizenId) throw error;
      // The citizen's pending slot is taken. A session past its time holds it until it is
      // closed: close it and try once more; a live one means "already pending".
      if (!(await this.#closeIfStale(citizenId))) throw new ApiError(AuthErrors.auth_session_already_pending);
      try {
        await insert();
      } catch (retryError) {
        if (isUniqueViolation(retryError, 'auth_sessions')) throw new ApiError(AuthErrors.auth_session_already_pending);
        throw retryError;
      }
    }
    outgoing?.committed();
    return { sessionId, sessionToken, mode: input.mode, interaction, state: 'pending', result: null, verificationCode: vc, qrStartSecret: qrSecret, expiresAt };
  }

  /** Closes the citizen's pending session as TIMEOUT if its time is up; true if the slot is free. */
  async #closeIfStale(citizenId: string): Promise<boolean> {
    const pending = await this.#db.selectFrom('auth_sessions').selectAll().where('pending_citizen_id', '=', citizenId).executeTakeFirst();
    if (!pending) return true;
    if (pending.expires_at > this.#now()) return false;
    await this.finish(pending, 'TIMEOUT', { type: 'system', id: 'expiry' });
    return true;
  }

  async expireDue(limit = 500): Promise<number> {
    const now = this.#now();
    const due = await this.#db.selectFrom('auth_sessions').selectAll().where(oneOf('state', ['pending'])).where('expires_at', '<=', now).limit(limit).execute();
    let n = 0;
    for (const s of due) if (await this.finish(s, 'TIMEOUT', { type: 'system', id: 'expiry' })) n++;
    return n;
  }

  /**
   * Completed sessions older than the retention are deleted in bounded batches: the audit log
   * keeps their history, and the table stays the size of a few days of sign-ins.
   */
  async purgeCompleted(limit = 5_000): Promise<number> {
    const before = this.#now() - this.#policy.retentionMs;
    const result = await this.#db
      .deleteFrom('auth_sessions')
      .where('id', 'in', (eb) => eb.selectFrom('auth_sessions').select('id').where(oneOf('state', ['complete'])).where('expires_at', '<', before).limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * App sessions whose every message (push, then the SMS fallback) failed for good end as
   * DELIVERY_FAILED rather than waiting out their time. They are found from the failures (the
   * partial index notify_outbox_failed_idx), which are rare, and not from the pending
   * sessions: reading the oldest pending sessions checked none of the newer ones while more
   * than a batch of citizens were still deciding, as at any busy hour. Each pass reads the
   * failures since the last one, overlapping it by a few seconds for a failure committed
   * after its time was taken; the first reads back as far as a session can still be pending.
   */
  async failUndelivered(limit = 200): Promise<number> {
    const now = this.#now();
    const from = this.#failuresReadFrom ?? now - this.#policy.appTtlMs;
    const failures = await this.#db
      .selectFrom('notify_outbox')
      .select(['correlation_id', 'updated_at'])
      .where(oneOf('status', ['failed']))
      .where('updated_at', '>=', from)
      .where('correlation_id', 'is not', null)
      .orderBy('updated_at')
      .limit(limit)
      .execute();
    // A full batch: the next pass goes on from where this one stopped.
    const last = failures.at(-1)?.updated_at;
    this.#failuresReadFrom = failures.length === limit && last! > from ? last! : Math.max(from, now - FAILURE_OVERLAP_MS);
    if (failures.length === 0) return 0;
    const pending = await this.#db
      .selectFrom('auth_sessions')
      .selectAll()
      .where('id', 'in', [...new Set(failures.map((f) => f.correlation_id!))])
      .where(oneOf('state', ['pending']))
      .where('mode', '=', 'app')
      .execute();
    if (pending.length === 0) return 0;
    // One read of the outbox for the whole batch (its correlation index), not one per session.
    const messages = await this.#db
      .selectFrom('notify_outbox')
      .select(['correlation_id', 'status'])
      .where('correlation_id', 'in', pending.map((p) => p.id))
      .execute();
    const statuses = Map.groupBy(messages, (m) => m.correlation_id!);
    let n = 0;
    for (const session of pending) {
      const mine = statuses.get(session.id) ?? [];
      if (mine.length > 0 && mine.every((m) => m.status === 'failed') && (await this.finish(session, 'DELIVERY_FAILED', { type: 'system', id: 'notify' }))) n++;
    }
    return n;
  }

  async #session(sessionId: string): Promise<AuthSession> {
    const session = (await sessionById(this.#db, { sessionId })).rows[0];
    if (!session) throw new ApiError(AuthErrors.auth_session_not_found);
    return session;
  }

  /** A pending session that is still in time; an expired one is closed on the way. */
  async #live(session: AuthSession): Promise<AuthSession> {
    if (session.state !== 'pending') throw new ApiError(AuthErrors.auth_session_not_pending, { params: { result: session.result ?? '' } });
    if (session.expires_at <= this.#now()) {
      await this.finish(session, 'TIMEOUT', { type: 'system', id: 'expiry' });
      throw new ApiError(AuthErrors.auth_session_expired);
    }
    return session;
  }

  async #present(session: AuthSession): Promise<PendingRequest> {
    const signingInput = await this.#signingInput(session);
    this.#presented.set(session.id, session, session.expires_at);
    const challengeHash = sha256(signingInput);
    return {
      sessionId: session.id,
      kind: session.kind,
      mode: session.mode,
      interaction: session.interaction,
      service: session.service_name,
      reason: session.reason,
      confirmationMessage: session.interaction === 'confirmation_message' ? session.reason : null,
      signingInput,
      verificationCodeChoices: session.mode === 'app' && session.interaction === 'verification_code_choice' ? verificationChoices(challengeHash, session.verification_code!) : null,
      documentName: session.document_name,
      documentHash: session.document_hash,
      expiresAt: session.expires_at,
    };
  }

  /**
   * The device's pending session, read beside its request's counter UPDATE (see CounterRider);
   * on PostgreSQL its push is marked delivered in that statement too.
   */
  readonly pendingRider: CounterRider<PendingRead> = {
    together: async (db, args) => (await pendingWithCounter(db, args)).rows.map(({ rider, ...device }) => ({ ...device, rider: { session: rider, pushMarked: true } })),
    after: async (db, device) => ({ session: (await pendingForDevice(db, { citizenId: device.citizen_id, deviceId: device.id })).rows[0] ?? null, pushMarked: false }),
  };

  /**
   * What the device shows: the pending request addressed to it, if any. `read` is what
   * pendingRider read with the device's request, when the route used it.
   */
  async pendingFor(device: Device, read?: PendingRead | null): Promise<PendingRequest | null> {
    const { session, pushMarked } = read ?? (await this.pendingRider.after(this.#db, device))!;
    if (!session || session.signing_payload === null) return null;
    if (session.expires_at <= this.#now()) {
      await this.finish(session, 'TIMEOUT', { type: 'system', id: 'expiry' });
      return null;
    }
    // The push reached its phone: no "open the app" SMS follows it. Only that SMS depends on
    // it, so a failure to record it is logged, and the citizen still gets their request.
    if (session.notification_id && !pushMarked) {
      await this.#delivered.add(session.id).catch((error: unknown) => this.#logger?.warn({ err: error, sessionId: session.id }, 'marking a push delivered failed; its fallback SMS may follow'));
    }
    return this.#present(session);
  }

  /** The device's session: the copy presented to it, or the stored row. */
  async #forDevice(sessionId: string, device: Pick<Device, 'id'>): Promise<AuthSession> {
    const session = this.#presented.get(sessionId, this.#now()) ?? (await this.#session(sessionId));
    if (session.device_id !== device.id) throw new ApiError(AuthErrors.auth_session_not_found);
    return this.#live(session);
  }

  /** Why a completing UPDATE changed nothing, read afresh: a suspension, or the session is over. */
  async #whyNotCompleted(sessionId: string, device?: Pick<Device, 'citizen_id' | 'binding_id'>): Promise<never> {
    const current = await this.#session(sessionId);
    if (current.state === 'pending' && device && (await this.#deps.directory.activeBinding(this.#db, device.citizen_id))?.bindingId !== device.binding_id) {
      throw new ApiError(AuthErrors.auth_enrollment_suspended);
    }
    await this.#live(current);
    throw new ApiError(AuthErrors.auth_session_not_pending, { params: { result: current.result ?? '' } });
  }

  /**
   * The citizen confirms on their phone. `counter`: the device request's counter, which moves
   * forward in the statement that completes the session (see completeSession).
   */
  async confirm(
    sessionId: string,
    device: DeviceProfile,
    input: { verificationCode?: string | undefined; signature: string; userVerification?: AuthenticationResponseJSON | undefined },
    counter: CounterAdvance,
  ): Promise<DeviceOutcome> {
    const counted = { reached: false };
    try {
      return await this.#confirm(sessionId, device, input, counter, counted);
    } catch (error) {
      // Failed before its counter could move: a replayed request or a revoked device is still
      // told that first, as when the counter moved before anything else.
      if (!counted.reached) throw (await refusalOf(this.#db, counter)) ?? error;
      throw error;
    }
  }

  async #confirm(
    sessionId: string,
    device: DeviceProfile,
    input: { verificationCode?: string | undefined; signature: string; userVerification?: AuthenticationResponseJSON | undefined },
    counter: CounterAdvance,
    counted: { reached: boolean },
  ): Promise<DeviceOutcome> {
    const session = await this.#forDevice(sessionId, device);
    const actor = { type: 'device' as const, id: device.id };
    // First the citizen: without their PIN or biometrics nothing of the request counts, not even a code pick.
    const signingInput = await this.#signingInput(session);
    await checkUserVerification(device, input.userVerification, signingInput, this.#party);
    if (session.mode === 'app' && session.interaction === 'verification_code_choice' && !(input.verificationCode !== undefined && safeEqualHex(input.verificationCode, session.verification_code!))) {
      // Counted and ended in one statement: a wrong pick ends the session, and repeated ones cool the citizen down.
      counted.reached = true;
      if (!(await this.finish(session, 'WRONG_VC', actor, { countWrongCode: true, counter }))) await this.#whyNotCompleted(session.id);
      throw new ApiError(AuthErrors.auth_wrong_verification_code);
    }
    const key = storedP256(session.kind === 'sign' ? device.sign_public_key : device.auth_public_key)!;
    if (!verifyP256(key, signingInput, input.signature)) throw new ApiError(AuthErrors.auth_signature_invalid);
    const assurance: Assurance = device.assurance === 'in_person' && device.key_storage === 'hardware' ? 'high' : 'substantial';
    // A suspension keeps the device (a resume brings it back) but no request may be confirmed
    // meanwhile, including one already on the phone when the operator suspended: `whileBound`.
    counted.reached = true;
    if (!(await this.finish(session, 'OK', actor, { signature: input.signature, assurance, whileBound: { citizenId: device.citizen_id, bindingId: device.binding_id }, counter }))) {
      await this.#whyNotCompleted(session.id, device);
    }
    return deviceOutcome(this.#completed.get(session.id, this.#now()) ?? (await this.#session(session.id)));
  }

  async refuse(sessionId: string, device: Device): Promise<DeviceOutcome> {
    const session = await this.#forDevice(sessionId, device);
    if (!(await this.finish(session, 'USER_REFUSED', { type: 'device', id: device.id }))) await this.#whyNotCompleted(session.id);
    return deviceOutcome(this.#completed.get(session.id, this.#now()) ?? (await this.#session(sessionId)));
  }

  /**
   * The starter withdraws a pending session: it ends CANCELLED and frees the citizen's pending
   * slot at once, so leaving a sign-in page does not lock the citizen out until it expires.
   */
  async cancel(sessionId: string, token: string): Promise<SessionView> {
    return this.#cancel(await this.forStarter(sessionId, token));
  }

  /** For server-side callers that hold the session id (the OpenID provider's interaction). */
  async cancelById(sessionId: string): Promise<SessionView> {
    return this.#cancel(await this.#session(sessionId));
  }

  async #cancel(session: AuthSession): Promise<SessionView> {
    if (session.state === 'pending') await this.finish(session, 'CANCELLED', { type: 'client', id: session.client_id });
    return this.view(this.#completed.get(session.id, this.#now()) ?? (await this.#session(session.id)));
  }

  /** The animated QR's current content, for the sign-in page. */
  async currentQr(sessionId: string, token: string): Promise<{ qr: string; elapsedSeconds: number }> {
    return this.#currentQr(await this.forStarter(sessionId, token));
  }

  /** For server-side callers that hold the session id (the OpenID provider's sign-in page). */
  async currentQrById(sessionId: string): Promise<{ qr: string; elapsedSeconds: number }> {
    return this.#currentQr(await this.#session(sessionId));
  }

  async #currentQr(found: AuthSession): Promise<{ qr: string; elapsedSeconds: number }> {
    const session = await this.#live(found);
    if (session.mode !== 'device_link' || !session.qr_secret) throw new ApiError(AuthErrors.auth_mode_mismatch);
    const elapsed = Math.floor((this.#now() - session.created_at) / 1000);
    return { qr: qrPayload(session.id, elapsed, qrAuthCode(session.qr_secret, session.id, elapsed)), elapsedSeconds: elapsed };
  }

  /**
   * The app scanned the QR: the code must be one of this second's (±1 s), so a QR relayed
   * from a phishing page goes stale before it can be used. The session becomes this device's.
   */
  async link(qr: string, device: Device): Promise<PendingRequest> {
    const match = /^tasdiq\.(as_[A-Za-z0-9_-]{22})\.(\d{1,6})\.([0-9a-f]{64})$/.exec(qr);
    if (!match) throw new ApiError(AuthErrors.auth_qr_invalid);
    const [, sessionId, elapsedText, code] = match as unknown as [string, string, string, string];
    const session = await this.#db.selectFrom('auth_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
    if (!session || session.mode !== 'device_link' || !session.qr_secret) throw new ApiError(AuthErrors.auth_qr_invalid);
    await this.#live(session);
    const elapsedNow = Math.floor((this.#now() - session.created_at) / 1000);
    const elapsed = Number(elapsedText);
    if (Math.abs(elapsedNow - elapsed) > 1 || !safeEqualHex(code, qrAuthCode(session.qr_secret, session.id, elapsed))) throw new ApiError(AuthErrors.auth_qr_invalid);
    if (session.citizen_id && session.citizen_id !== device.citizen_id) throw new ApiError(AuthErrors.auth_link_wrong_citizen);
    if (session.device_id && session.device_id !== device.id) throw new ApiError(AuthErrors.auth_session_not_pending);
    if ((await this.#deps.directory.activeBinding(this.#db, device.citizen_id))?.bindingId !== device.binding_id) throw new ApiError(DeviceErrors.device_revoked);
    await this.#checkCooldown(device.citizen_id, this.#now());
    const { certificate_serial, signing_payload } = await this.#signingParts(session, device, this.#now());
    try {
      const claimed = await this.#db
        .updateTable('auth_sessions')
        .set({ citizen_id: device.citizen_id, pending_citizen_id: device.citizen_id, device_id: device.id, certificate_serial, signing_payload })
        .where('id', '=', session.id)
        .where('state', '=', 'pending')
        .where('device_id', 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) throw new ApiError(AuthErrors.auth_session_not_pending);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError(AuthErrors.auth_session_already_pending);
      throw error;
    }
    return this.#present({ ...session, citizen_id: device.citizen_id, pending_citizen_id: device.citizen_id, device_id: device.id, certificate_serial, signing_payload });
  }

  /**
   * SMS code check. The attempt is counted before the code is compared, in one conditional
   * UPDATE, so parallel guesses cannot exceed the limit.
   */
  async verifyOtp(sessionId: string, token: string, code: string): Promise<SessionView> {
    return this.#verifyOtp(await this.forStarter(sessionId, token), code);
  }

  /** For server-side callers that hold the session id (the OpenID provider's sign-in page). */
  async verifyOtpById(sessionId: string, code: string): Promise<SessionView> {
    return this.#verifyOtp(await this.#session(sessionId), code);
  }

  async #verifyOtp(found: AuthSession, code: string): Promise<SessionView> {
    const session = await this.#live(found);
    if (session.mode !== 'sms_otp' || !session.otp_hash) throw new ApiError(AuthErrors.auth_mode_mismatch);
    const counted = await this.#db
      .updateTable('auth_sessions')
      .set((eb) => ({ otp_attempts: eb('otp_attempts', '+', 1) }))
      .where('id', '=', session.id)
      .where('state', '=', 'pending')
      .where('otp_attempts', '<', this.#policy.otpMaxAttempts)
      .returning('otp_attempts')
      .executeTakeFirst();
    if (!counted) throw new ApiError(AuthErrors.auth_otp_attempts_exhausted);
    if (safeEqualHex(hashOtp(this.#otpPepper, session.id, code), session.otp_hash)) {
      if (!(await this.finish(session, 'OK', { type: 'client', id: session.client_id }, { assurance: 'low' }))) throw new ApiError(AuthErrors.auth_session_not_pending);
      return this.view(this.#completed.get(session.id, this.#now()) ?? (await this.#session(session.id)));
    }
    const left = this.#policy.otpMaxAttempts - counted.otp_attempts;
    if (left <= 0) {
      await this.finish(session, 'WRONG_VC', { type: 'client', id: session.client_id });
      throw new ApiError(AuthErrors.auth_otp_attempts_exhausted);
    }
    throw new ApiError(AuthErrors.auth_otp_wrong, { params: { attemptsLeft: left } });
  }

  /** For server-side callers that hold the session id (the OpenID provider's interaction). */
  async byId(sessionId: string): Promise<AuthSession | undefined> {
    return this.#completed.get(sessionId, this.#now()) ?? this.#db.selectFrom('auth_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
  }

  /** The session, for the party that started it (holder of the session token). */
  async forStarter(sessionId: string, token: string): Promise<AuthSession> {
    const session = this.#completed.get(sessionId, this.#now()) ?? (await this.#session(sessionId));
    if (!safeEqualHex(hashToken(token), session.token_hash)) throw new ApiError(AuthErrors.auth_session_not_found);
    return session;
  }

  async view(session: AuthSession): Promise<SessionView> {
    const pinfl = session.result === 'OK' && session.citizen_id ? (subjectOf(session.signing_payload) ?? (await this.#deps.directory.pinflOf(this.#db, session.citizen_id))) : undefined;
    return {
      sessionId: session.id,
      kind: session.kind,
      mode: session.mode,
      state: session.state,
      result: session.result,
      assurance: session.result === 'OK' ? session.assurance : null,
      subject: pinfl ? { pinfl } : null,
      jws: session.result === 'OK' ? await this.#jws(session) : null,
      expiresAt: session.expires_at,
      completedAt: session.completed_at,
    };
  }
}

function deviceOutcome(session: AuthSession): DeviceOutcome {
  return {
    sessionId: session.id,
    kind: session.kind,
    state: session.state,
    result: session.result,
    assurance: session.result === 'OK' ? session.assurance : null,
    completedAt: session.completed_at,
  };
}
