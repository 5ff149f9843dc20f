import { randomBytes } from 'node:crypto';
import { verifyRegistrationResponse, type RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Db, Tx } from '../platform/db/index.ts';
import { ApiError } from '../platform/errors.ts';
import { enqueueNotification } from '../notify/outbox.ts';
import { removePushTargetsOfDevice } from '../notify/push-targets.ts';
import { finishPendingSessionsOfCitizen } from '../auth/store.ts';
import type { DeviceCa, IssuedCertificate } from './ca.ts';
import { BoundedCache } from '../platform/bounded-cache.ts';
import { activationMessage, keyAttestationChallenge } from './canonical.ts';
import type { WebAuthnParty } from '../platform/webauthn.ts';
import type { KeyAttestation, KeyAttestationVerifier } from './attestation.ts';
import { DeviceErrors } from './errors.ts';
import { importP256 } from './protocol.ts';
import { verifyP256 } from '../platform/p256.ts';
import type { CertificateChain, DeviceDependencies } from './ports.ts';
import type { Device, KeyStorage } from './schema.ts';

export interface ActivationRequest {
  readonly activationCode: string;
  readonly authKey: string;
  readonly signKey: string;
  readonly authProof: string;
  readonly signProof: string;
  readonly label?: string | undefined;
  /** The platform key store's attestation of both keys (native apps); none: software keys. */
  readonly keyAttestation?: KeyAttestation | undefined;
  /**
   * A passkey that checks the citizen (user verification required), made for this activation:
   * its challenge is the key attestation challenge, so it cannot be moved to other keys. Every
   * confirmation of the device then carries its assertion (docs/device-protocol.md §1.3).
   */
  readonly userVerification?: RegistrationResponseJSON | undefined;
}

export interface ActivationResult {
  readonly deviceId: string;
  readonly counter: number;
  readonly authCertificate: string;
  readonly signCertificate: string;
  readonly caCertificate: string;
  readonly certificatesNotAfter: number;
  /** 'hardware' when the key attestation verified; 'software' without one. */
  readonly keyStorage: KeyStorage;
}

/** Certificates are renewed in their last days: a device renews once, not on every start. */
const RENEWAL_WINDOW_DAYS = 60;
const DAY_MS = 86_400_000;

export function newDeviceId(): string {
  return `dev_${randomBytes(16).toString('base64url')}`;
}

export class DeviceService {
  readonly #db: Db;
  readonly #ca: DeviceCa;
  readonly #deps: DeviceDependencies;
  readonly #attestation: KeyAttestationVerifier;
  readonly #party: () => WebAuthnParty;
  readonly #now: () => number;
  readonly #chains = new BoundedCache<string, CertificateChain>(100_000);

  constructor(options: { db: Db; ca: DeviceCa; deps: DeviceDependencies; attestation: KeyAttestationVerifier; party: () => WebAuthnParty; now: () => number }) {
    this.#db = options.db;
    this.#ca = options.ca;
    this.#deps = options.deps;
    this.#attestation = options.attestation;
    this.#party = options.party;
    this.#now = options.now;
  }

  /**
   * Activation: both keys must prove possession by signing the code, and a key attestation
   * (if any) must verify, before the code is spent, so a garbled request leaves the code
   * usable. Code, device, certificates, audit record and notice commit together.
   */
  async activate(input: ActivationRequest, requestId?: string): Promise<ActivationResult> {
    const authKey = importP256(input.authKey);
    const signKey = importP256(input.signKey);
    if (!authKey || !signKey || input.authKey === input.signKey) throw new ApiError(DeviceErrors.device_key_invalid);
    const message = activationMessage(input.activationCode, input.authKey, input.signKey);
    if (!verifyP256(authKey, message, input.authProof) || !verifyP256(signKey, message, input.signProof)) {
      throw new ApiError(DeviceErrors.device_proof_invalid);
    }
    const keyStorage: KeyStorage = input.keyAttestation
      ? this.#attestation.verify(input.keyAttestation, { activationCode: input.activationCode, authKey: input.authKey, signKey: input.signKey })
      : 'software';
    const passkey = input.userVerification ? await this.#userVerification(input) : undefined;
    // The CA root and key are loaded before the transaction: on SQLite a second connection
    // would wait on the transaction's lock.
    const root = await this.#ca.root();
    const now = this.#now();
    return this.#db.transaction().execute(async (tx) => {
      const grant = await this.#deps.directory.consumeActivationCode(tx, input.activationCode, now);
      if (!grant) throw new ApiError(DeviceErrors.activation_code_invalid);
      const pinfl = await this.#deps.directory.pinflOf(tx, grant.citizenId);
      if (!pinfl) throw new ApiError(DeviceErrors.activation_code_invalid);
      // One app per citizen: the certificate chain a sign-in names must be known when it starts.
      await revokeDevices(tx, { citizenId: grant.citizenId }, 'superseded', now);
      const deviceId = newDeviceId();
      const auth = await this.#ca.issue({ spki: Buffer.from(input.authKey, 'base64url'), pinfl, deviceId, purpose: 'auth' });
      const sign = await this.#ca.issue({ spki: Buffer.from(input.signKey, 'base64url'), pinfl, deviceId, purpose: 'sign' });
      await tx
        .insertInto('devices')
        .values({
          id: deviceId,
          citizen_id: grant.citizenId,
          binding_id: grant.bindingId,
          status: 'active',
          counter: 0,
          auth_public_key: input.authKey,
          sign_public_key: input.signKey,
          auth_cert_serial: auth.serial,
          sign_cert_serial: sign.serial,
          cert_not_after: Math.min(auth.notAfter, sign.notAfter),
          assurance: grant.assurance,
          key_storage: keyStorage,
          uv_credential_id: passkey?.credentialId ?? null,
          uv_public_key: passkey?.publicKey ?? null,
          label: input.label ?? null,
          created_at: now,
          last_seen_at: null,
          revoked_at: null,
          revocation_reason: null,
        })
        .execute();
      await tx.insertInto('device_certificates').values(certificateRows(deviceId, auth, sign)).execute();
      await this.#deps.audit(
        tx,
        {
          actorType: 'device',
          actorId: deviceId,
          action: 'device.activated',
          subjectCitizenId: grant.citizenId,
          details: { bindingId: grant.bindingId, authCertSerial: auth.serial, signCertSerial: sign.serial, keyStorage, userVerification: passkey ? 'passkey' : 'app' },
          ...(requestId ? { requestId } : {}),
        },
        now,
      );
      await enqueueNotification(tx, { kind: 'device.activated', channel: 'sms', recipient: grant.phone, locale: 'uz-Latn', params: {}, correlationId: deviceId }, now);
      return {
        deviceId,
        counter: 0,
        authCertificate: Buffer.from(auth.der).toString('base64'),
        signCertificate: Buffer.from(sign.der).toString('base64'),
        caCertificate: Buffer.from(root.cert.rawData).toString('base64'),
        certificatesNotAfter: Math.min(auth.notAfter, sign.notAfter),
        keyStorage,
      };
    });
  }

  /** The activation's passkey, verified: made with user verification, over this activation's challenge. */
  async #userVerification(input: ActivationRequest): Promise<{ credentialId: string; publicKey: string }> {
    const party = this.#party();
    try {
      const { verified, registrationInfo } = await verifyRegistrationResponse({
        response: input.userVerification!,
        expectedChallenge: keyAttestationChallenge(input.activationCode, input.authKey, input.signKey).toString('base64url'),
        expectedOrigin: party.origin,
        expectedRPID: party.id,
        requireUserVerification: true,
        supportedAlgorithmIDs: [-7],
      });
      if (verified && registrationInfo) return { credentialId: registrationInfo.credential.id, publicKey: Buffer.from(registrationInfo.credential.publicKey).toString('base64url') };
    } catch (error) {
      throw new ApiError(DeviceErrors.device_user_verification_invalid, { detail: (error as Error).message.slice(0, 200) });
    }
    throw new ApiError(DeviceErrors.device_user_verification_invalid);
  }

  async findDevice(db: Db | Tx, deviceId: string): Promise<Device | undefined> {
    return db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
  }

  /**
   * The certificate `serial` with its issuer's, for the chain (x5c) a signature names; undefined
   * for a serial this service never issued. A certificate never changes (a renewal makes new
   * ones, with new serials), so chains are cached by serial, and a session that names one
   * reads it back the same after the device renewed.
   */
  async certificateChain(serial: string): Promise<CertificateChain | undefined> {
    const cached = this.#chains.get(serial, 0);
    if (cached) return cached;
    const row = await this.#db.selectFrom('device_certificates').select(['der', 'issuer_kid']).where('serial', '=', serial).executeTakeFirst();
    if (!row) return undefined;
    const chain = { leaf: new Uint8Array(row.der), issuer: await this.#ca.issuerCertificate(row.issuer_kid) };
    this.#chains.set(serial, chain);
    return chain;
  }

  /**
   * New certificates for the same keys, in the last RENEWAL_WINDOW_DAYS of the current ones
   * (a request signed by the device, so only while they are valid: an expired device activates
   * anew). The old certificates are not revoked: signatures made with them stay valid.
   */
  async renew(device: Device, requestId?: string): Promise<Omit<ActivationResult, 'counter' | 'keyStorage'>> {
    const now = this.#now();
    if (device.cert_not_after - now > RENEWAL_WINDOW_DAYS * DAY_MS) throw new ApiError(DeviceErrors.device_renewal_not_due, { params: { days: RENEWAL_WINDOW_DAYS } });
    const pinfl = await this.#deps.directory.pinflOf(this.#db, device.citizen_id);
    if (!pinfl) throw new ApiError(DeviceErrors.device_revoked);
    const root = await this.#ca.root();
    const auth = await this.#ca.issue({ spki: Buffer.from(device.auth_public_key, 'base64url'), pinfl, deviceId: device.id, purpose: 'auth' });
    const sign = await this.#ca.issue({ spki: Buffer.from(device.sign_public_key, 'base64url'), pinfl, deviceId: device.id, purpose: 'sign' });
    const notAfter = Math.min(auth.notAfter, sign.notAfter);
    await this.#db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('devices')
        .set({ auth_cert_serial: auth.serial, sign_cert_serial: sign.serial, cert_not_after: notAfter })
        .where('id', '=', device.id)
        .where('status', '=', 'active')
        .where('auth_cert_serial', '=', device.auth_cert_serial)
        .executeTakeFirst();
      // Revoked meanwhile, or renewed by a parallel request: this one's certificates are not kept.
      if (Number(updated.numUpdatedRows) !== 1) throw new ApiError(DeviceErrors.device_revoked);
      await tx.insertInto('device_certificates').values(certificateRows(device.id, auth, sign)).execute();
      await this.#deps.audit(
        tx,
        { actorType: 'device', actorId: device.id, action: 'device.certificates_renewed', subjectCitizenId: device.citizen_id, details: { authCertSerial: auth.serial, signCertSerial: sign.serial, notAfter }, ...(requestId ? { requestId } : {}) },
        now,
      );
    });
    return {
      deviceId: device.id,
      authCertificate: Buffer.from(auth.der).toString('base64'),
      signCertificate: Buffer.from(sign.der).toString('base64'),
      caCertificate: Buffer.from(root.cert.rawData).toString('base64'),
      certificatesNotAfter: notAfter,
    };
  }
}

/** The device_certificates rows of a device's authentication and signing certificates. */
function certificateRows(deviceId: string, auth: IssuedCertificate, sign: IssuedCertificate) {
  return [
    { cert: auth, purpose: 'auth' as const },
    { cert: sign, purpose: 'sign' as const },
  ].map(({ cert, purpose }) => ({
    serial: cert.serial,
    device_id: deviceId,
    purpose,
    issuer_kid: cert.issuerKid,
    der: cert.der,
    not_before: cert.notBefore,
    not_after: cert.notAfter,
    revoked_at: null,
    revocation_reason: null,
  }));
}

/**
 * Revokes devices and their certificates in the caller's transaction, and ends the pending
 * sign-ins they could have confirmed with DEVICE_REVOKED. The enrollment module calls it when
 * a binding is revoked; a device revoking itself calls it with its own id.
 */
export async function revokeDevices(
  tx: Tx,
  filter: { citizenId: string; deviceId?: string },
  reason: string,
  now: number = Date.now(),
): Promise<string[]> {
  let query = tx.updateTable('devices').set({ status: 'revoked', revoked_at: now, revocation_reason: reason }).where('citizen_id', '=', filter.citizenId).where('status', '=', 'active');
  if (filter.deviceId) query = query.where('id', '=', filter.deviceId);
  const revoked = (await query.returning('id').execute()).map((r) => r.id);
  if (revoked.length === 0) return [];
  // A revoked app is never woken again.
  for (const deviceId of revoked) await removePushTargetsOfDevice(tx, deviceId);
  await tx
    .updateTable('device_certificates')
    .set({ revoked_at: now, revocation_reason: reason })
    .where('device_id', 'in', revoked)
    .where('revoked_at', 'is', null)
    .execute();
  const remaining = await tx.selectFrom('devices').select('id').where('citizen_id', '=', filter.citizenId).where('status', '=', 'active').executeTakeFirst();
  if (!remaining) await finishPendingSessionsOfCitizen(tx, filter.citizenId, 'DEVICE_REVOKED', now);
  return revoked;
}

/** For the enrollment module: a revoked binding revokes every device activated under it. */
export async function revokeDevicesForCitizen(tx: Tx, citizenId: string, reason: string, now: number = Date.now()): Promise<number> {
  return (await revokeDevices(tx, { citizenId }, reason, now)).length;
}
