import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import type { KeyAttestation, KeyAttestor } from '../../../client/src/index.ts';

type AndroidAttestation = Extract<KeyAttestation, { format: 'android-key' }>;
import { ANDROID_KEY_DESCRIPTION_OID } from '../../src/devices/attestation.ts';

/*
 * TEST KEY STORE: a stand-in for Android KeyStore's key attestation, for tests only. Given the
 * device's two public keys and the activation's challenge it issues what a phone's TEE would:
 * a chain root CA → intermediate → leaf, the leaf certifying the device's own key and carrying
 * a real KeyDescription extension (built with asn1js), every certificate signed with real keys
 * (@peculiar/x509). The root is written to a PEM file the test apps trust
 * (TASDIQ_KEY_ATTESTATION_ROOTS), so the service's verifier runs for real. The variants break
 * one thing each, for the refusals.
 */

export type AttestationVariant =
  | 'valid'
  /** Still valid: Android leaves may carry an odd notAfter (here: yesterday). */
  | 'leaf_expired'
  | 'software_level'
  | 'wrong_challenge'
  | 'wrong_key'
  | 'untrusted_root'
  | 'broken_signature'
  | 'missing_extension'
  | 'origin_imported'
  | 'no_sign_purpose'
  | 'wrong_curve'
  | 'expired_intermediate'
  | 'extension_in_intermediate'
  | 'bootloader_unlocked'
  | 'boot_self_signed'
  | 'no_root_of_trust'
  /** The key signs without the citizen (noAuthRequired, no userAuthType). */
  | 'no_user_auth'
  /** The key signs for five minutes after one unlock. */
  | 'auth_timeout';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;

const DAY = 86_400_000;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as const;
/** The root's name; the untrusted root has the same name and another key. */
const ROOT_NAME = 'CN=Tasdiq Test Attestation Root, O=Tasdiq tests, C=UZ';
const INTERMEDIATE_NAME = 'CN=Tasdiq Test TEE Attestation, O=Tasdiq tests, C=UZ';

interface Authority {
  readonly root: x509.X509Certificate;
  readonly intermediate: x509.X509Certificate;
  readonly intermediateKey: CryptoKey;
  /** The same intermediate key, certified as expired. */
  readonly expiredIntermediate: x509.X509Certificate;
  /** The same intermediate key, its certificate carrying a KeyDescription too. */
  readonly describedIntermediate: x509.X509Certificate;
}

function serial(): string {
  const bytes = randomBytes(12);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

const caExtensions = (issuerKey: CryptoKey | undefined, subjectKey: CryptoKey) =>
  Promise.all([
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    x509.SubjectKeyIdentifierExtension.create(subjectKey),
    ...(issuerKey ? [x509.AuthorityKeyIdentifierExtension.create(issuerKey)] : []),
  ]);

async function authority(rootKeys: CryptoKeyPair, rootAlgorithm: Algorithm): Promise<Authority> {
  const now = Date.now();
  const root = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: ROOT_NAME,
    issuer: ROOT_NAME,
    notBefore: new Date(now - 365 * DAY),
    notAfter: new Date(now + 20 * 365 * DAY),
    publicKey: rootKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: rootAlgorithm,
    extensions: await caExtensions(rootKeys.publicKey, rootKeys.publicKey),
  });
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const intermediateCert = async (notAfter: number, extra: x509.Extension[] = []) =>
    x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: INTERMEDIATE_NAME,
      issuer: ROOT_NAME,
      notBefore: new Date(now - 30 * DAY),
      notAfter: new Date(notAfter),
      publicKey: keys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: rootAlgorithm,
      extensions: [...(await caExtensions(rootKeys.publicKey, keys.publicKey)), ...extra],
    });
  return {
    root,
    intermediate: await intermediateCert(now + 10 * 365 * DAY),
    intermediateKey: keys.privateKey,
    expiredIntermediate: await intermediateCert(now - DAY),
    describedIntermediate: await intermediateCert(now + 10 * 365 * DAY, [new x509.Extension(ANDROID_KEY_DESCRIPTION_OID, false, keyDescription({ challenge: new Uint8Array(32), level: 1, origin: 0, purposes: [2], curve: 1 }))]),
  };
}

const explicit = (tagNumber: number, value: asn1js.AsnType) => new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value: [value] });
const integer = (n: number | bigint) => asn1js.Integer.fromBigInt(n);

/** KeyDescription as KeyMint 3 (attestation version 300) writes it, with the fields a verifier reads. */
function keyDescription(input: { challenge: Uint8Array; level: number; origin: number; purposes: number[]; curve: number; locked?: boolean; bootState?: number; rootOfTrust?: boolean; userAuth?: 'per_use' | 'none' | 'timeout' }): ArrayBuffer {
  const rootOfTrust = new asn1js.Sequence({
    value: [
      new asn1js.OctetString({ valueHex: new Uint8Array(32).fill(7) }), // verifiedBootKey
      new asn1js.Boolean({ value: input.locked ?? true }), // deviceLocked
      new asn1js.Enumerated({ value: input.bootState ?? 0 }), // verifiedBootState: 0 Verified, 1 SelfSigned
      new asn1js.OctetString({ valueHex: new Uint8Array(32).fill(9) }), // verifiedBootHash
    ],
  });
  const softwareEnforced = new asn1js.Sequence({
    value: [
      explicit(701, integer(BigInt(Date.now()))), // creationDateTime
      explicit(709, new asn1js.OctetString({ valueHex: new TextEncoder().encode('uz.tasdiq.app') })), // attestationApplicationId (simplified)
    ],
  });
  const hardwareEnforced = new asn1js.Sequence({
    value: [
      explicit(1, new asn1js.Set({ value: input.purposes.map((p) => integer(p)) })), // purpose
      explicit(2, integer(3)), // algorithm: EC
      explicit(3, integer(256)), // keySize
      explicit(5, new asn1js.Set({ value: [integer(4)] })), // digest: SHA-256
      explicit(10, integer(input.curve)), // ecCurve
      ...(input.userAuth === 'none'
        ? [explicit(503, new asn1js.Null())] // noAuthRequired
        : [explicit(504, integer(3)), explicit(505, integer(input.userAuth === 'timeout' ? 300 : 0))]), // userAuthType: password | fingerprint; authTimeout
      explicit(702, integer(input.origin)), // origin
      ...(input.rootOfTrust === false ? [] : [explicit(704, rootOfTrust)]),
      explicit(705, integer(140000)), // osVersion
      explicit(706, integer(202505)), // osPatchLevel
    ],
  });
  return new asn1js.Sequence({
    value: [
      integer(300), // attestationVersion
      new asn1js.Enumerated({ value: input.level }), // attestationSecurityLevel
      integer(300), // keyMintVersion
      new asn1js.Enumerated({ value: input.level }), // keyMintSecurityLevel
      new asn1js.OctetString({ valueHex: input.challenge }),
      new asn1js.OctetString({ valueHex: new Uint8Array(0) }), // uniqueId
      softwareEnforced,
      hardwareEnforced,
    ],
  }).toBER();
}

async function importSpki(spki: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('spki', Buffer.from(spki, 'base64url'), EC, true, ['verify']);
}

function base64(cert: x509.X509Certificate): string {
  return Buffer.from(cert.rawData).toString('base64');
}

export interface TestKeyStore {
  /** The PEM file of trusted roots that the test apps are configured with. */
  readonly rootsFile: string;
  /** The chains for one activation; `only` breaks only that chain (the other stays valid). */
  attest(keys: { authKey: string; signKey: string; challenge: Uint8Array }, variant?: AttestationVariant, only?: 'auth' | 'sign'): Promise<AndroidAttestation>;
  /** For `DeviceClient.activate({ keyAttestation })`. */
  attestor(variant?: AttestationVariant, only?: 'auth' | 'sign'): KeyAttestor;
  /** Serial numbers (hex) of the trusted chain's intermediate and root, for status lists. */
  readonly serials: { readonly intermediate: string; readonly root: string };
}

async function build(): Promise<TestKeyStore> {
  const trusted = await authority((await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair, RSA);
  let untrusted: Promise<Authority> | undefined;
  // An unrelated root first in the file: the verifier must look through every one.
  const unrelatedKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const unrelated = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=Unrelated Test Root, C=UZ',
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
    keys: unrelatedKeys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const dir = mkdtempSync(join(tmpdir(), 'tasdiq-attestation-'));
  const rootsFile = join(dir, 'roots.pem');
  writeFileSync(rootsFile, `# test attestation roots\n${unrelated.toString('pem')}\n${trusted.root.toString('pem')}\n`);

  async function chain(spki: string, challenge: Uint8Array, variant: AttestationVariant): Promise<string[]> {
    const ca = variant === 'untrusted_root' ? await (untrusted ??= (async () => authority((await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair, ECDSA_SHA256))()) : trusted;
    const intermediate = variant === 'expired_intermediate' ? ca.expiredIntermediate : variant === 'extension_in_intermediate' ? ca.describedIntermediate : ca.intermediate;
    const publicKey = variant === 'wrong_key' ? ((await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair).publicKey : await importSpki(spki);
    const description = keyDescription({
      challenge: variant === 'wrong_challenge' ? new Uint8Array(randomBytes(32)) : challenge,
      level: variant === 'software_level' ? 0 : 1,
      origin: variant === 'origin_imported' ? 2 : 0,
      purposes: variant === 'no_sign_purpose' ? [3] : [2, 3],
      curve: variant === 'wrong_curve' ? 2 : 1,
      locked: variant !== 'bootloader_unlocked',
      bootState: variant === 'boot_self_signed' ? 1 : 0,
      rootOfTrust: variant !== 'no_root_of_trust',
      userAuth: variant === 'no_user_auth' ? 'none' : variant === 'auth_timeout' ? 'timeout' : 'per_use',
    });
    const now = Date.now();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: 'CN=Android Keystore Key',
      issuer: INTERMEDIATE_NAME,
      notBefore: new Date(now - 60_000),
      // Android writes 9999-12-31 or the key's usage expiry; `leaf_expired` a past date.
      notAfter: variant === 'leaf_expired' ? new Date(now - DAY) : new Date('9999-12-31T23:59:59Z'),
      publicKey,
      signingKey: ca.intermediateKey,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), ...(variant === 'missing_extension' ? [] : [new x509.Extension(ANDROID_KEY_DESCRIPTION_OID, false, description)])],
    });
    let leafDer = Buffer.from(leaf.rawData);
    if (variant === 'broken_signature') {
      // The last byte of the signature's s: still well-formed DER, no longer a valid signature.
      leafDer = Buffer.from(leafDer);
      leafDer[leafDer.length - 1] = leafDer[leafDer.length - 1]! ^ 0x01;
    }
    return [leafDer.toString('base64'), base64(intermediate), base64(ca.root)];
  }

  const store: TestKeyStore = {
    rootsFile,
    serials: { intermediate: trusted.intermediate.serialNumber, root: trusted.root.serialNumber },
    async attest(keys, variant = 'valid', only) {
      const defect = (which: 'auth' | 'sign') => (only === undefined || only === which ? variant : 'valid');
      return {
        format: 'android-key',
        authChain: await chain(keys.authKey, keys.challenge, defect('auth')),
        signChain: await chain(keys.signKey, keys.challenge, defect('sign')),
      };
    },
    attestor(variant = 'valid', only) {
      return (keys) => store.attest(keys, variant, only);
    },
  };
  return store;
}

let shared: Promise<TestKeyStore> | undefined;

/** The process's test key store (one root for every test app in the process). */
export function testKeyStore(): Promise<TestKeyStore> {
  return (shared ??= build());
}

/** An attestor with the shared test key store: `DeviceClient.activate(url, code, { keyAttestation: await hardwareKeyStore() })`. */
export async function hardwareKeyStore(variant: AttestationVariant = 'valid', only?: 'auth' | 'sign'): Promise<KeyAttestor> {
  return (await testKeyStore()).attestor(variant, only);
}
