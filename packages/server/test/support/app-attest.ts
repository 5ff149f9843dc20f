import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import * as asn1js from 'asn1js';
import type { KeyAttestation, KeyAttestor } from '../../../client/src/index.ts';
import { APPLE_NONCE_OID } from '../../src/devices/app-attest.ts';

/*
 * TEST APP ATTEST: a stand-in for Apple's App Attest service, for tests only. For a device's
 * challenge it does what `DCAppAttestService.attestKey` and Apple's servers do together: a new
 * P-256 key, authenticator data naming the app (rpIdHash = SHA-256 of the app id), a credential
 * certificate for the key carrying the nonce SHA-256(authData || challenge), signed by an
 * intermediate under a root the test apps trust (TASDIQ_APP_ATTEST_ROOTS), all in the CBOR
 * attestation object Apple returns. Every signature is real, so the service's verifier runs for
 * real. The variants break one thing each, for the refusals.
 */

export type AppAttestVariant =
  | 'valid'
  | 'development'
  | 'wrong_challenge'
  | 'wrong_app'
  | 'used_key'
  | 'other_key_id'
  | 'other_credential_id'
  | 'untrusted_root'
  | 'expired_credential'
  | 'no_nonce'
  | 'wrong_format';

/** The app id the test apps allow (TASDIQ_APP_ATTEST_APP_IDS). */
export const TEST_APP_ID = 'TASDIQTEST.uz.gov.tasdiq';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
const DAY = 86_400_000;
const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const SIGN_SHA384 = { name: 'ECDSA', hash: 'SHA-384' } as const;
const SIGN_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const ROOT_NAME = 'CN=Tasdiq Test App Attestation Root CA, O=Tasdiq tests, C=UZ';
const INTERMEDIATE_NAME = 'CN=Tasdiq Test App Attestation CA 1, O=Tasdiq tests, C=UZ';
const AAGUID = { production: Buffer.concat([Buffer.from('appattest'), Buffer.alloc(7)]), development: Buffer.from('appattestdevelop') };

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

function serial(): string {
  const bytes = randomBytes(12);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function authority(): Promise<{ root: x509.X509Certificate; intermediate: x509.X509Certificate; intermediateKeys: CryptoKeyPair }> {
  const now = Date.now();
  const rootKeys = (await webcrypto.subtle.generateKey(P384, true, ['sign', 'verify'])) as CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: ROOT_NAME,
    notBefore: new Date(now - 365 * DAY),
    notAfter: new Date(now + 20 * 365 * DAY),
    keys: rootKeys,
    signingAlgorithm: SIGN_SHA384,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const intermediateKeys = (await webcrypto.subtle.generateKey(P384, true, ['sign', 'verify'])) as CryptoKeyPair;
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: INTERMEDIATE_NAME,
    issuer: ROOT_NAME,
    notBefore: new Date(now - 30 * DAY),
    notAfter: new Date(now + 10 * 365 * DAY),
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: SIGN_SHA384,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return { root, intermediate, intermediateKeys };
}

/** The nonce extension's value: SEQUENCE { [1] EXPLICIT OCTET STRING nonce }. */
function nonceExtension(nonce: Uint8Array): x509.Extension {
  const value = new asn1js.Sequence({ value: [new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.OctetString({ valueHex: nonce })] })] });
  return new x509.Extension(APPLE_NONCE_OID, false, value.toBER());
}

export interface TestAppAttest {
  /** The PEM file holding the test root (TASDIQ_APP_ATTEST_ROOTS). */
  readonly rootsFile: string;
  attest(challenge: Uint8Array, variant?: AppAttestVariant): Promise<Extract<KeyAttestation, { format: 'apple-appattest' }>>;
  /** For `DeviceClient.activate({ keyAttestation })`. */
  attestor(variant?: AppAttestVariant): KeyAttestor;
}

async function build(): Promise<TestAppAttest> {
  const trusted = await authority();
  let untrusted: ReturnType<typeof authority> | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tasdiq-app-attest-'));
  const rootsFile = join(dir, 'apple-roots.pem');
  writeFileSync(rootsFile, trusted.root.toString('pem'));

  const store: TestAppAttest = {
    rootsFile,
    async attest(challenge, variant = 'valid') {
      const ca = variant === 'untrusted_root' ? await (untrusted ??= authority()) : trusted;
      const key = (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
      const jwk = await webcrypto.subtle.exportKey('jwk', key.publicKey);
      const x = Buffer.from(jwk.x!, 'base64url');
      const y = Buffer.from(jwk.y!, 'base64url');
      const keyId = sha256(Buffer.concat([Buffer.from([4]), x, y]));
      const credentialId = variant === 'other_credential_id' ? randomBytes(32) : keyId;
      const cose = isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, y]]));
      const counter = Buffer.alloc(4);
      counter.writeUInt32BE(variant === 'used_key' ? 1 : 0);
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(credentialId.length);
      const authData = Buffer.concat([
        sha256(Buffer.from(variant === 'wrong_app' ? 'OTHERTEAM1.uz.example.app' : TEST_APP_ID)),
        Buffer.from([0x40]), // attested credential data present
        counter,
        variant === 'development' ? AAGUID.development : AAGUID.production,
        idLength,
        credentialId,
        Buffer.from(cose),
      ]);
      const clientDataHash = variant === 'wrong_challenge' ? randomBytes(32) : Buffer.from(challenge);
      const now = Date.now();
      const credential = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${credentialId.toString('hex')}, OU=AAA Certification, O=Tasdiq tests`,
        issuer: INTERMEDIATE_NAME,
        notBefore: new Date(now - (variant === 'expired_credential' ? 10 * DAY : 60_000)),
        notAfter: new Date(variant === 'expired_credential' ? now - DAY : now + 3 * DAY),
        publicKey: key.publicKey,
        signingKey: ca.intermediateKeys.privateKey,
        signingAlgorithm: SIGN_SHA256,
        extensions: variant === 'no_nonce' ? [] : [nonceExtension(sha256(authData, clientDataHash))],
      });
      const statement = new Map<string, unknown>([
        ['x5c', [new Uint8Array(credential.rawData), new Uint8Array(ca.intermediate.rawData)]],
        ['receipt', new Uint8Array(randomBytes(64))],
      ]);
      const object = new Map<string, unknown>([
        ['fmt', variant === 'wrong_format' ? 'packed' : 'apple-appattest'],
        ['attStmt', statement],
        ['authData', new Uint8Array(authData)],
      ]);
      return {
        format: 'apple-appattest',
        keyId: (variant === 'other_key_id' ? randomBytes(32) : keyId).toString('base64'),
        attestationObject: Buffer.from(isoCBOR.encode(object as never)).toString('base64'),
      };
    },
    attestor(variant = 'valid') {
      return (keys) => store.attest(keys.challenge, variant);
    },
  };
  return store;
}

let shared: Promise<TestAppAttest> | undefined;

/** The process's test App Attest service (one root for every test app in the process). */
export function testAppAttest(): Promise<TestAppAttest> {
  return (shared ??= build());
}
