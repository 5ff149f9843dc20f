import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto';
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import { decodeAttestationObject, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import * as asn1js from 'asn1js';
import { fail, MAX_CHAIN_LENGTH, verifiedChain } from './attestation-chain.ts';

/**
 * Apple App Attest (format `apple-appattest`): an iOS app asks `DCAppAttestService` to attest a
 * key it generated in the Secure Enclave, passing this activation's key attestation challenge as
 * the client data hash. Apple then certifies that a genuine copy of the app, signed by the
 * operator's team, runs on a genuine Apple device, and the challenge binds both device keys (the
 * app makes them in the Secure Enclave too) to that attestation. The checks are those of
 * https://developer.apple.com/documentation/devicecheck/validating-apps-that-connect-to-your-server.
 */
export interface AppAttestation {
  readonly format: 'apple-appattest';
  /** The attested key's identifier as `generateKey` returned it (base64 of SHA-256 of its public key). */
  readonly keyId: string;
  /** The CBOR attestation object `attestKey` returned, base64. */
  readonly attestationObject: string;
}

/** The credential certificate's extension that carries the nonce. */
export const APPLE_NONCE_OID = '1.2.840.113635.100.8.2';
/** The AAGUID of an attestation from Apple's production environment, and from its development one. */
const AAGUID = {
  production: Buffer.concat([Buffer.from('appattest', 'ascii'), Buffer.alloc(7)]),
  development: Buffer.from('appattestdevelop', 'ascii'),
} as const;

export type AppAttestEnvironment = keyof typeof AAGUID;

export interface AppAttestSettings {
  /** Apple's App Attestation Root CA (and only it, in production). */
  readonly roots: readonly X509Certificate[];
  /** The apps allowed to activate: `TEAMID.bundle.id`. */
  readonly appIds: readonly string[];
  readonly environment: AppAttestEnvironment;
}

function bytesOf(value: unknown, what: string): Buffer {
  if (!(value instanceof Uint8Array)) fail(`${what} is not a byte string`);
  return Buffer.from(value);
}

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The nonce in the credential certificate: `SEQUENCE { [1] EXPLICIT OCTET STRING }`. */
function nonceOf(cert: X509Certificate): Buffer {
  const extensions = new x509.X509Certificate(cert.raw).extensions.filter((e) => e.type === APPLE_NONCE_OID);
  if (extensions.length !== 1) fail(`attestation x5c[0] has ${extensions.length === 0 ? 'no' : 'more than one'} nonce extension (${APPLE_NONCE_OID})`);
  const parsed = asn1js.fromBER(extensions[0]!.value);
  const tagged = parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence) ? undefined : parsed.result.valueBlock.value[0];
  const inner = tagged instanceof asn1js.Constructed && tagged.idBlock.tagClass === 3 && tagged.idBlock.tagNumber === 1 ? tagged.valueBlock.value[0] : undefined;
  if (!(inner instanceof asn1js.OctetString)) fail(`attestation x5c[0]: the nonce extension is not SEQUENCE { [1] OCTET STRING }`);
  return Buffer.from(inner.valueBlock.valueHexView);
}

/** The uncompressed point (0x04 || x || y) of a P-256 public key: what App Attest hashes into the key id. */
function uncompressedPoint(cert: X509Certificate): Buffer {
  const jwk = cert.publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) fail('attestation x5c[0] does not certify a P-256 key');
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

/**
 * Checks an App Attest attestation against this activation's challenge; throws an
 * AttestationFailure naming the first check that failed.
 */
export function verifyAppAttestation(attestation: AppAttestation, challenge: Buffer, settings: AppAttestSettings, now: number): void {
  if (settings.roots.length === 0 || settings.appIds.length === 0) {
    fail('App Attest is not configured on this service (TASDIQ_APP_ATTEST_ROOTS and TASDIQ_APP_ATTEST_APP_IDS), so no App Attest attestation can be verified; activate without keyAttestation');
  }
  const keyId = Buffer.from(attestation.keyId, 'base64');
  if (keyId.length !== 32) fail('keyId is not the base64 of a SHA-256 hash (32 bytes)');
  let decoded: unknown;
  try {
    decoded = decodeAttestationObject(Buffer.from(attestation.attestationObject, 'base64'));
  } catch {
    fail('attestationObject is not CBOR');
  }
  if (!(decoded instanceof Map)) fail('attestationObject is not a CBOR map');
  if (decoded.get('fmt') !== 'apple-appattest') fail(`attestationObject fmt is ${JSON.stringify(String(decoded.get('fmt')))}, not "apple-appattest"`);
  const statement = decoded.get('attStmt');
  const x5c: unknown = statement instanceof Map ? statement.get('x5c') : undefined;
  if (!Array.isArray(x5c) || x5c.length > MAX_CHAIN_LENGTH) fail('attestationObject attStmt has no x5c certificate chain');
  const chain = x5c.map((der, i) => bytesOf(der, `attestation x5c[${i}]`));
  const authData = bytesOf(decoded.get('authData'), 'attestationObject authData');

  // 1-2. The chain ends at Apple's root; the credential certificate is valid now too (Apple
  // issues it at attestation time, for days, so an old attestation cannot be replayed later).
  const [credential] = verifiedChain('attestation x5c', chain, { roots: settings.roots, rootsSetting: 'TASDIQ_APP_ATTEST_ROOTS', now });
  if (credential!.validToDate.getTime() < now) fail(`attestation x5c[0] has expired (notAfter ${credential!.validToDate.toISOString()})`);
  // 3-4. The nonce binds the attestation to authData and to this activation's challenge.
  if (!equalBytes(nonceOf(credential!), sha256(authData, challenge))) fail("attestation x5c[0]: the nonce is not SHA-256(authData || this activation's challenge) (see docs/device-protocol.md)");
  // 5. The certified key is the key the app named.
  if (!equalBytes(sha256(uncompressedPoint(credential!)), keyId)) fail('attestation x5c[0] certifies another key than keyId');

  let parsed: ReturnType<typeof parseAuthenticatorData>;
  try {
    parsed = parseAuthenticatorData(new Uint8Array(authData));
  } catch (error) {
    fail(`attestationObject authData cannot be read (${(error as Error).message.slice(0, 100)})`);
  }
  // 6. The app is one of the operator's.
  const rpIdHash = Buffer.from(parsed.rpIdHash);
  if (!settings.appIds.some((appId) => equalBytes(rpIdHash, sha256(Buffer.from(appId, 'utf8'))))) fail('authData rpIdHash is not SHA-256 of an app id in TASDIQ_APP_ATTEST_APP_IDS');
  // 7. A new key has signed nothing yet.
  if (parsed.counter !== 0) fail(`authData counter is ${parsed.counter}, not 0: the key was used before`);
  // 8. Apple's environment: a development build cannot pass as production.
  if (!parsed.aaguid || !equalBytes(Buffer.from(parsed.aaguid), AAGUID[settings.environment])) {
    fail(`authData aaguid is not App Attest's ${settings.environment} one (TASDIQ_APP_ATTEST_ENVIRONMENT)`);
  }
  // 9. The credential is the key the app named.
  if (!parsed.credentialID || !equalBytes(Buffer.from(parsed.credentialID), keyId)) fail('authData credentialId is not keyId');
}
