import { X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * What every key attestation format shares: a chain of X.509 certificates from the attested key
 * up to a root the operator trusts, checked the same way for Android Key Attestation
 * (attestation.ts) and Apple App Attest (app-attest.ts). A check that fails throws an
 * AttestationFailure whose message is the `detail` of `device_attestation_invalid`.
 */

export const MAX_CHAIN_LENGTH = 8;
/** A leaf's notBefore is the phone's clock at key generation: tolerated this far ahead of ours. */
const LEAF_NOT_BEFORE_LEEWAY_MS = 86_400_000;

export class AttestationFailure extends Error {}

export function fail(detail: string): never {
  throw new AttestationFailure(detail);
}

export function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

export function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * The trusted roots in a PEM file (`setting` names it: TASDIQ_KEY_ATTESTATION_ROOTS or
 * TASDIQ_APP_ATTEST_ROOTS); a block that does not parse stops the start.
 */
export function readAttestationRoots(file: string, setting = 'TASDIQ_KEY_ATTESTATION_ROOTS'): X509Certificate[] {
  const pem = readFileSync(file, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${setting}: ${file} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`${setting}: certificate ${i + 1} in ${file} cannot be read: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** Attestation certificates by serial (lower-case hex, no leading zeros): their status and reason. */
export type AttestationStatusList = ReadonlyMap<string, { readonly status: 'REVOKED' | 'SUSPENDED'; readonly reason: string | undefined }>;

/** A certificate serial as the status list writes it: lower-case hex without leading zeros. */
export function normalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/**
 * The checks every attestation chain passes, whatever its format: 2 to MAX_CHAIN_LENGTH
 * certificates (DER, leaf first), each signed by the next and the next a CA, the last a
 * trusted root or signed by one, the CA certificates and the anchor valid now, the leaf not
 * issued in the future (beyond a day of clock skew), and none in the status list. Answers the
 * certificates, leaf first, for the format's own checks of the leaf.
 */
export function verifiedChain(
  label: string,
  chain: readonly Uint8Array[],
  options: { roots: readonly X509Certificate[]; rootsSetting: string; now: number; statusList?: AttestationStatusList | undefined },
): X509Certificate[] {
  const { roots, now } = options;
  if (chain.length < 2 || chain.length > MAX_CHAIN_LENGTH) fail(`${label}: expected 2 to ${MAX_CHAIN_LENGTH} certificates, leaf first`);
  const certs = chain.map((der, i) => {
    try {
      return new X509Certificate(der);
    } catch {
      return fail(`${label}[${i}] is not a DER X.509 certificate`);
    }
  });

  // Signatures: each certificate by the next, and the next a CA.
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i + 1]!.ca) fail(`${label}[${i + 1}] signs certificate ${i} but is not a CA certificate`);
    if (!signedBy(certs[i]!, certs[i + 1]!)) fail(`${label}[${i}] is not signed by ${label}[${i + 1}]`);
  }

  // The last certificate is a trusted root (the same certificate, or the same key and name), or is signed by one.
  const last = certs[certs.length - 1]!;
  const lastKey = spkiDer(last.publicKey);
  const isRoot = roots.some((r) => r.raw.equals(last.raw) || (r.subject === last.subject && spkiDer(r.publicKey).equals(lastKey)));
  const issuedByRoot = isRoot ? undefined : roots.find((r) => r.subject === last.issuer && signedBy(last, r));
  if (!isRoot && !issuedByRoot) fail(`${label}: the chain does not end at a trusted attestation root (${options.rootsSetting})`);

  // Validity now: every CA certificate and the anchor. The leaf's notAfter is not meaningful on
  // Android (often 9999 or the key's usage expiry) and its notBefore comes from the phone's clock.
  const validity = [...certs.slice(1).map((c, i) => ({ cert: c, name: `${label}[${i + 1}]` })), ...(issuedByRoot ? [{ cert: issuedByRoot, name: `${label}: the trusted root` }] : [])];
  for (const { cert, name } of validity) {
    if (cert.validFromDate.getTime() > now) fail(`${name} is not valid yet (notBefore ${cert.validFromDate.toISOString()})`);
    if (cert.validToDate.getTime() < now) fail(`${name} has expired (notAfter ${cert.validToDate.toISOString()})`);
  }

  // Revocation: Google revokes the attestation keys of devices whose key store leaked, and a
  // batch of them at once by an intermediate; any certificate of the chain may be listed.
  if (options.statusList) {
    const checked = [...certs.map((c, i) => ({ cert: c, name: `${label}[${i}]` })), ...(issuedByRoot ? [{ cert: issuedByRoot, name: `${label}: the trusted root` }] : [])];
    for (const { cert, name } of checked) {
      const entry = options.statusList.get(normalSerial(cert.serialNumber));
      if (entry) fail(`${name} is ${entry.status} in the attestation status list${entry.reason ? ` (${entry.reason})` : ''}`);
    }
  }
  const leaf = certs[0]!;
  if (leaf.validFromDate.getTime() > now + LEAF_NOT_BEFORE_LEEWAY_MS) fail(`${label}[0] is not valid yet (notBefore ${leaf.validFromDate.toISOString()})`);
  return certs;
}
