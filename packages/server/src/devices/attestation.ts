import { createPublicKey, timingSafeEqual, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { ApiError } from '../platform/errors.ts';
import { verifyAppAttestation, type AppAttestation, type AppAttestSettings } from './app-attest.ts';
import { AttestationFailure, fail, normalSerial, readAttestationRoots, spkiDer, verifiedChain, type AttestationStatusList } from './attestation-chain.ts';
import { keyAttestationChallenge } from './canonical.ts';
import { DeviceErrors } from './errors.ts';
import type { KeyStorage } from './schema.ts';

export { MAX_CHAIN_LENGTH, normalSerial, readAttestationRoots, type AttestationStatusList } from './attestation-chain.ts';
export type { AppAttestation } from './app-attest.ts';

/**
 * Verification of a platform key store's attestation of the two device keys, in two formats:
 * - Android Key Attestation (`android-key`), the certificate chains a native Android app gets
 *   from `KeyStore.getCertificateChain` for keys generated with `setAttestationChallenge`;
 * - Apple App Attest (`apple-appattest`, app-attest.ts) for the iOS app, whose keys are in the
 *   Secure Enclave.
 * Browsers give no key attestation at all. Only a verified attestation makes a device
 * `hardware`; there is no other way.
 *
 * The Android checks follow https://source.android.com/docs/security/features/keystore/attestation and
 * https://developer.android.com/privacy-and-security/security-key-attestation:
 * each certificate signed by the next, the last one a configured root or signed by one, the CA
 * certificates valid now, the leaf's key the key being registered, and the leaf's KeyDescription
 * saying the key was generated inside a TEE or StrongBox for signing, on P-256, with this
 * activation's challenge, the device's boot verified and its bootloader locked (RootOfTrust), and
 * no certificate of the chain revoked or suspended in Google's attestation status list (a copy
 * the operator keeps, TASDIQ_KEY_ATTESTATION_STATUS).
 */

/** Android's attestation as the activation request carries it (certificates DER, base64, leaf first). */
export interface AndroidKeyAttestation {
  readonly format: 'android-key';
  readonly authChain: readonly string[];
  readonly signChain: readonly string[];
}

export type KeyAttestation = AndroidKeyAttestation | AppAttestation;

/** Android's KeyDescription extension (attestation record). */
export const ANDROID_KEY_DESCRIPTION_OID = '1.3.6.1.4.1.11129.2.1.17';

/** KeyMint's values (hardware/interfaces/security/keymint, Tag and enums). */
const SECURITY_LEVEL = { software: 0, trustedEnvironment: 1, strongBox: 2 } as const;
const TAG = { purpose: 1, algorithm: 2, keySize: 3, ecCurve: 10, noAuthRequired: 503, userAuthType: 504, authTimeout: 505, origin: 702, rootOfTrust: 704 } as const;
/** HardwareAuthenticatorType bits: the device credential (PIN, pattern, password) and biometrics. */
const AUTH_TYPE_PASSWORD = 1;
const AUTH_TYPE_FINGERPRINT = 2;
const VERIFIED_BOOT_STATES = ['Verified', 'SelfSigned', 'Unverified', 'Failed'];
const PURPOSE_SIGN = 2;
const ALGORITHM_EC = 3;
const EC_CURVE_P256 = 1;
const ORIGIN_GENERATED = 0;


/**
 * Reads a status list in Google's format (`{ "entries": { "<serial hex>": { "status", "reason" } } }`);
 * a file that is not one is an error naming what is wrong.
 */
export function readAttestationStatus(file: string): AttestationStatusList {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`TASDIQ_KEY_ATTESTATION_STATUS: cannot read ${file} as JSON: ${(error as Error).message}`, { cause: error });
  }
  const entries = (parsed as { entries?: unknown } | null)?.entries;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) throw new Error(`TASDIQ_KEY_ATTESTATION_STATUS: ${file} is not an attestation status list: no "entries" object`);
  const list = new Map<string, { status: 'REVOKED' | 'SUSPENDED'; reason: string | undefined }>();
  for (const [serial, entry] of Object.entries(entries)) {
    const status = (entry as { status?: unknown } | null)?.status;
    const reason = (entry as { reason?: unknown } | null)?.reason;
    if (!/^[0-9a-fA-F]{1,128}$/.test(serial)) throw new Error(`TASDIQ_KEY_ATTESTATION_STATUS: ${file}: entry "${serial.slice(0, 40)}" is not a hexadecimal serial number`);
    if (status !== 'REVOKED' && status !== 'SUSPENDED') throw new Error(`TASDIQ_KEY_ATTESTATION_STATUS: ${file}: entry ${serial} has status ${JSON.stringify(status)}, expected "REVOKED" or "SUSPENDED"`);
    list.set(normalSerial(serial), { status, reason: typeof reason === 'string' ? reason.slice(0, 100) : undefined });
  }
  return list;
}

/** How often the status list file is looked at for a newer copy. */
const STATUS_RECHECK_MS = 60_000;

/** The status list from its file, re-read when the file changes (looked at once a minute at most). */
class StatusListFile {
  readonly #file: string;
  readonly #recheckMs: number;
  #list: AttestationStatusList;
  #mtimeMs: number;
  #checkedAt: number;

  constructor(file: string, now: number, recheckMs = STATUS_RECHECK_MS) {
    this.#file = file;
    this.#recheckMs = recheckMs;
    this.#mtimeMs = statSync(file).mtimeMs;
    this.#list = readAttestationStatus(file);
    this.#checkedAt = now;
  }

  /** The current list; a copy that no longer reads keeps the last good one in force. */
  current(now: number): AttestationStatusList {
    if (now - this.#checkedAt < this.#recheckMs) return this.#list;
    this.#checkedAt = now;
    try {
      const mtimeMs = statSync(this.#file).mtimeMs;
      if (mtimeMs !== this.#mtimeMs) {
        this.#list = readAttestationStatus(this.#file);
        this.#mtimeMs = mtimeMs;
      }
    } catch {
      // A half-written or removed copy: the list read before stays in force until a good one.
    }
    return this.#list;
  }
}

interface ParsedKeyDescription {
  readonly attestationSecurityLevel: number;
  readonly keyMintSecurityLevel: number;
  readonly challenge: Uint8Array;
  readonly hardwareEnforced: Map<number, asn1js.AsnType>;
}

function integerOf(value: asn1js.AsnType | undefined, what: string): number {
  if (!(value instanceof asn1js.Integer) && !(value instanceof asn1js.Enumerated)) fail(`${what} is not an integer`);
  return value.valueBlock.valueDec;
}

/** An AuthorizationList: a SEQUENCE of `[tag] EXPLICIT value`, each tag at most once. */
function authorizationList(value: asn1js.AsnType | undefined, what: string): Map<number, asn1js.AsnType> {
  if (!(value instanceof asn1js.Sequence)) fail(`${what} is not a SEQUENCE`);
  const entries = new Map<number, asn1js.AsnType>();
  for (const entry of value.valueBlock.value) {
    const inner = entry instanceof asn1js.Constructed ? entry.valueBlock.value : undefined;
    if (entry.idBlock.tagClass !== 3 || !inner || inner.length !== 1) fail(`${what} holds an entry that is not an explicitly tagged value`);
    if (entries.has(entry.idBlock.tagNumber)) fail(`${what} holds tag ${entry.idBlock.tagNumber} twice`);
    entries.set(entry.idBlock.tagNumber, inner[0]!);
  }
  return entries;
}

/** KeyDescription ::= SEQUENCE { attestationVersion, attestationSecurityLevel, keyMintVersion, keyMintSecurityLevel, attestationChallenge, uniqueId, softwareEnforced, hardwareEnforced } */
function parseKeyDescription(der: ArrayBuffer, label: string): ParsedKeyDescription {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || parsed.offset !== der.byteLength) fail(`${label}: the leaf's KeyDescription extension is not DER`);
  const root = parsed.result;
  if (!(root instanceof asn1js.Sequence) || root.valueBlock.value.length < 8) fail(`${label}: the leaf's KeyDescription is not a SEQUENCE of 8 fields`);
  const [version, attestationLevel, , keyMintLevel, challenge, , software, hardware] = root.valueBlock.value;
  integerOf(version, `${label}: attestationVersion`);
  if (!(challenge instanceof asn1js.OctetString)) fail(`${label}: attestationChallenge is not an OCTET STRING`);
  authorizationList(software, `${label}: softwareEnforced`);
  return {
    attestationSecurityLevel: integerOf(attestationLevel, `${label}: attestationSecurityLevel`),
    keyMintSecurityLevel: integerOf(keyMintLevel, `${label}: keyMintSecurityLevel`),
    challenge: challenge.valueBlock.valueHexView,
    hardwareEnforced: authorizationList(hardware, `${label}: hardwareEnforced`),
  };
}

function keyDescriptionExtensions(cert: X509Certificate, name: string): x509.Extension[] {
  let parsed: x509.X509Certificate;
  try {
    parsed = new x509.X509Certificate(cert.raw);
  } catch {
    return fail(`${name}: its extensions cannot be read`);
  }
  return parsed.extensions.filter((e) => e.type === ANDROID_KEY_DESCRIPTION_OID);
}

function levelName(level: number): string {
  return level === SECURITY_LEVEL.software ? 'Software' : level === SECURITY_LEVEL.trustedEnvironment ? 'TrustedEnvironment' : level === SECURITY_LEVEL.strongBox ? 'StrongBox' : String(level);
}

export class KeyAttestationVerifier {
  readonly #roots: readonly X509Certificate[];
  readonly #now: () => number;
  readonly #status: StatusListFile | undefined;
  readonly #appAttest: AppAttestSettings;

  /**
   * `roots`: the configured trust anchors of Android attestations; none means that no Android
   * attestation verifies. `statusFile`: Google's attestation status list, as the operator keeps
   * a copy of it. `appAttest`: Apple's root and the operator's iOS app ids; none, no App Attest.
   */
  constructor(options: { roots: readonly X509Certificate[]; now: () => number; statusFile?: string | undefined; statusRecheckMs?: number; appAttest?: AppAttestSettings | undefined }) {
    this.#roots = options.roots;
    this.#now = options.now;
    this.#status = options.statusFile ? new StatusListFile(options.statusFile, options.now(), options.statusRecheckMs) : undefined;
    this.#appAttest = options.appAttest ?? { roots: [], appIds: [], environment: 'production' };
  }

  static fromConfig(options: {
    rootsFile: string | undefined;
    statusFile?: string | undefined;
    appAttest?: { rootsFile: string | undefined; appIds: readonly string[]; environment: AppAttestSettings['environment'] } | undefined;
    now: () => number;
  }): KeyAttestationVerifier {
    const appAttest = options.appAttest?.rootsFile
      ? { roots: readAttestationRoots(options.appAttest.rootsFile, 'TASDIQ_APP_ATTEST_ROOTS'), appIds: options.appAttest.appIds, environment: options.appAttest.environment }
      : undefined;
    return new KeyAttestationVerifier({ roots: options.rootsFile ? readAttestationRoots(options.rootsFile) : [], statusFile: options.statusFile, appAttest, now: options.now });
  }

  /**
   * Verifies the attestation against this activation; answers the key storage to record, or
   * throws `device_attestation_invalid` with a detail naming the first check that failed.
   */
  verify(attestation: KeyAttestation, activation: { activationCode: string; authKey: string; signKey: string }): KeyStorage {
    try {
      const challenge = keyAttestationChallenge(activation.activationCode, activation.authKey, activation.signKey);
      const now = this.#now();
      if (attestation.format === 'apple-appattest') {
        verifyAppAttestation(attestation, challenge, this.#appAttest, now);
        return 'hardware';
      }
      if (attestation.format !== 'android-key') fail(`unsupported attestation format ${JSON.stringify(String((attestation as { format: unknown }).format))}`);
      if (this.#roots.length === 0) {
        fail('no key attestation roots are configured on this service (TASDIQ_KEY_ATTESTATION_ROOTS), so no attestation can be verified; activate without keyAttestation');
      }
      this.#verifyChain('authChain', attestation.authChain, activation.authKey, challenge, now);
      this.#verifyChain('signChain', attestation.signChain, activation.signKey, challenge, now);
      return 'hardware';
    } catch (error) {
      if (error instanceof AttestationFailure) throw new ApiError(DeviceErrors.device_attestation_invalid, { detail: error.message });
      throw error;
    }
  }

  /**
   * The citizen confirms with PIN or biometrics: the key store must refuse to sign until the
   * citizen unlocks the key, at every use (`setUserAuthenticationParameters(0, ...)`). A key that
   * signs without them, or for minutes after one unlock, would let malware on the phone confirm.
   */
  #checkUserAuthentication(label: string, hw: Map<number, asn1js.AsnType>): void {
    if (hw.has(TAG.noAuthRequired)) fail(`${label}: hardwareEnforced has noAuthRequired: the key signs without the citizen's PIN or biometrics`);
    const authType = hw.get(TAG.userAuthType);
    if (authType === undefined) fail(`${label}: hardwareEnforced has no userAuthType: the key does not ask for the citizen's PIN or biometrics`);
    if ((integerOf(authType, `${label}: hardwareEnforced userAuthType`) & (AUTH_TYPE_PASSWORD | AUTH_TYPE_FINGERPRINT)) === 0) fail(`${label}: hardwareEnforced userAuthType names neither the device credential (1) nor biometrics (2)`);
    const timeout = hw.get(TAG.authTimeout);
    if (timeout !== undefined) {
      const seconds = integerOf(timeout, `${label}: hardwareEnforced authTimeout`);
      if (seconds !== 0) fail(`${label}: hardwareEnforced authTimeout is ${seconds} s: the key must ask for the citizen at every use`);
    }
  }

  /**
   * RootOfTrust ::= SEQUENCE { verifiedBootKey, deviceLocked BOOLEAN, verifiedBootState, ... }: a
   * key store is only as trustworthy as the system that booted it, so an unlocked bootloader or a
   * boot that was not verified against the manufacturer's key makes the attestation worthless.
   */
  #checkRootOfTrust(label: string, value: asn1js.AsnType | undefined): void {
    if (!(value instanceof asn1js.Sequence) || value.valueBlock.value.length < 3) fail(`${label}: hardwareEnforced has no rootOfTrust`);
    const [, locked, state] = value.valueBlock.value;
    if (!(locked instanceof asn1js.Boolean)) fail(`${label}: rootOfTrust deviceLocked is not a BOOLEAN`);
    if (!locked.getValue()) fail(`${label}: rootOfTrust says the bootloader is unlocked (deviceLocked false)`);
    const bootState = integerOf(state, `${label}: rootOfTrust verifiedBootState`);
    if (bootState !== 0) fail(`${label}: rootOfTrust verifiedBootState is ${VERIFIED_BOOT_STATES[bootState] ?? String(bootState)}, not Verified`);
  }

  #verifyChain(label: string, chain: readonly string[], registeredKey: string, challenge: Buffer, now: number): void {
    const certs = verifiedChain(label, chain.map((b64) => Buffer.from(b64, 'base64')), { roots: this.#roots, rootsSetting: 'TASDIQ_KEY_ATTESTATION_ROOTS', now, statusList: this.#status?.current(now) });
    const leaf = certs[0]!;

    // The leaf certifies the key being registered.
    const registered = spkiDer(createPublicKey({ key: Buffer.from(registeredKey, 'base64url'), format: 'der', type: 'spki' }));
    if (!spkiDer(leaf.publicKey).equals(registered)) fail(`${label}[0] certifies another key than the one registered as ${label === 'authChain' ? 'authKey' : 'signKey'}`);

    // Only the leaf carries a KeyDescription: one further down means a key that was attested
    // itself signed a certificate, which KeyMint never does.
    for (let i = 1; i < certs.length; i++) {
      if (keyDescriptionExtensions(certs[i]!, `${label}[${i}]`).length > 0) fail(`${label}[${i}] carries a KeyDescription extension: only the leaf may`);
    }
    const extensions = keyDescriptionExtensions(leaf, `${label}[0]`);
    if (extensions.length === 0) fail(`${label}[0] has no KeyDescription extension (${ANDROID_KEY_DESCRIPTION_OID})`);
    if (extensions.length > 1) fail(`${label}[0] has more than one KeyDescription extension`);
    const description = parseKeyDescription(extensions[0]!.value, label);

    const hardwareLevels: number[] = [SECURITY_LEVEL.trustedEnvironment, SECURITY_LEVEL.strongBox];
    if (!hardwareLevels.includes(description.attestationSecurityLevel)) fail(`${label}: attestationSecurityLevel is ${levelName(description.attestationSecurityLevel)}, not TrustedEnvironment or StrongBox`);
    if (!hardwareLevels.includes(description.keyMintSecurityLevel)) fail(`${label}: keyMintSecurityLevel is ${levelName(description.keyMintSecurityLevel)}, not TrustedEnvironment or StrongBox`);
    const got = Buffer.from(description.challenge);
    if (got.length !== challenge.length || !timingSafeEqual(got, challenge)) fail(`${label}: attestationChallenge is not this activation's challenge (see docs/device-protocol.md)`);

    const hw = description.hardwareEnforced;
    this.#checkRootOfTrust(label, hw.get(TAG.rootOfTrust));
    const origin = hw.get(TAG.origin);
    if (origin === undefined) fail(`${label}: hardwareEnforced has no origin`);
    const originValue = integerOf(origin, `${label}: hardwareEnforced origin`);
    if (originValue !== ORIGIN_GENERATED) fail(`${label}: hardwareEnforced origin is ${originValue}, not GENERATED (0): the key was not generated in the key store`);
    this.#checkUserAuthentication(label, hw);
    const purposes = hw.get(TAG.purpose);
    if (!(purposes instanceof asn1js.Set)) fail(`${label}: hardwareEnforced has no purpose set`);
    if (!purposes.valueBlock.value.some((p) => p instanceof asn1js.Integer && p.valueBlock.valueDec === PURPOSE_SIGN)) fail(`${label}: hardwareEnforced purpose does not include SIGN (2)`);
    const algorithm = hw.get(TAG.algorithm);
    if (algorithm === undefined || integerOf(algorithm, `${label}: hardwareEnforced algorithm`) !== ALGORITHM_EC) fail(`${label}: hardwareEnforced algorithm is not EC (3)`);
    const curve = hw.get(TAG.ecCurve);
    if (curve !== undefined) {
      if (integerOf(curve, `${label}: hardwareEnforced ecCurve`) !== EC_CURVE_P256) fail(`${label}: hardwareEnforced ecCurve is not P_256 (1)`);
    } else {
      // Keymaster before version 3 named the curve by its size only.
      const size = hw.get(TAG.keySize);
      if (size === undefined || integerOf(size, `${label}: hardwareEnforced keySize`) !== 256) fail(`${label}: hardwareEnforced names no P-256 curve (ecCurve or keySize 256)`);
    }
  }
}
