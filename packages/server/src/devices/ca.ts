import { createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import type { Db } from '../platform/db/index.ts';
import type { KeyStore, PublicJwk } from '../platform/keys/index.ts';
import type { CertificatePurpose } from './schema.ts';

export const CA_KEY_NAME = 'device-ca';
type X509Crypto = NonNullable<Parameters<typeof x509.X509CrlGenerator.create>[1]>;
type X509Key = x509.X509CrlCreateParams['signingKey'];
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
/** Device certificates live a year: renewal rides on the signed protocol, never a revisit. */
export const DEVICE_CERT_DAYS = 365;
const ROOT_YEARS = 10;
/** RFC 5280 CRLReason codes by the reasons Tasdiq records. */
const CRL_REASONS: Record<string, x509.X509CrlReason> = {
  binding_revoked: x509.X509CrlReason.affiliationChanged,
  device_revoked: x509.X509CrlReason.cessationOfOperation,
  key_compromise: x509.X509CrlReason.keyCompromise,
  superseded: x509.X509CrlReason.superseded,
  phone_rebound: x509.X509CrlReason.superseded,
  enrollment_revoked: x509.X509CrlReason.cessationOfOperation,
};

/**
 * WebCrypto as @peculiar/x509 sees it, except that `sign` is answered by the key store. The
 * CA's private key therefore never exists outside the store; an HSM adapter works unchanged.
 */
function keyStoreCrypto(store: KeyStore, name: string): { crypto: X509Crypto; signingKey: X509Key } {
  const subtle = new Proxy(webcrypto.subtle, {
    get(target, prop) {
      if (prop === 'sign') {
        return async (_alg: unknown, _key: unknown, data: ArrayBuffer | ArrayBufferView) => {
          const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
          const { signature } = await store.sign(name, bytes);
          return signature.slice().buffer;
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const crypto = { subtle, getRandomValues: webcrypto.getRandomValues.bind(webcrypto) } as unknown as X509Crypto;
  const signingKey = { type: 'private', extractable: false, algorithm: { name: 'ECDSA', namedCurve: 'P-256' }, usages: ['sign'] } as unknown as X509Key;
  return { crypto, signingKey };
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01; // positive and full length, so the hex form is stable
  return bytes.toString('hex');
}

export interface IssuedCertificate {
  readonly serial: string;
  readonly der: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly issuerKid: string;
}

/** The ETSI EN 319 412-1 semantics identifier for a natural person's national number. */
export function pinflSerialNumber(pinfl: string): string {
  return `PNOUZ-${pinfl}`;
}

/** How long a signed CRL is served again while no revocation happened (its nextUpdate is an hour). */
const CRL_REUSE_MS = 300_000;

/** Tasdiq's device certificate authority: a root whose key lives in the KeyStore. */
export class DeviceCa {
  #crlCache: { fingerprint: string; builtAt: number; der: Uint8Array } | undefined;
  readonly #db: Db;
  readonly #keys: KeyStore;
  readonly #now: () => number;
  readonly #publicUrl: string;
  #root: { kid: string; cert: x509.X509Certificate } | undefined;
  readonly #issuers = new Map<string, Uint8Array>();

  constructor(options: { db: Db; keys: KeyStore; now: () => number; publicUrl: string }) {
    this.#db = options.db;
    this.#keys = options.keys;
    this.#now = options.now;
    this.#publicUrl = options.publicUrl;
  }

  get crlUrl(): string {
    return `${this.#publicUrl}/api/v1/device/ca/crl`;
  }

  /**
   * The CA certificate that issued a device certificate (`issuer_kid`): the current root, or
   * an earlier one after a key rotation, so a chain stays what it was at issue.
   */
  async issuerCertificate(kid: string): Promise<Uint8Array> {
    const root = await this.root();
    if (root.kid === kid) return new Uint8Array(root.cert.rawData);
    let der = this.#issuers.get(kid);
    if (!der) {
      const row = await this.#db.selectFrom('device_ca_certificates').select('der').where('kid', '=', kid).executeTakeFirstOrThrow();
      this.#issuers.set(kid, (der = new Uint8Array(row.der)));
    }
    return der;
  }

  /** The root certificate of the current CA key, made on first use. */
  async root(): Promise<{ kid: string; cert: x509.X509Certificate }> {
    const jwk = await this.#keys.getOrCreateSigningKey(CA_KEY_NAME, 'ES256');
    if (this.#root?.kid === jwk.kid) return this.#root;
    let row = await this.#db.selectFrom('device_ca_certificates').selectAll().where('kid', '=', jwk.kid).executeTakeFirst();
    if (!row) {
      const cert = await this.#createRoot(jwk);
      // Two instances may race here; the first root stored is the one everyone uses.
      await this.#db
        .insertInto('device_ca_certificates')
        .values({ kid: jwk.kid, der: new Uint8Array(cert.rawData), created_at: this.#now() })
        .onConflict((oc) => oc.column('kid').doNothing())
        .execute();
      row = await this.#db.selectFrom('device_ca_certificates').selectAll().where('kid', '=', jwk.kid).executeTakeFirstOrThrow();
    }
    this.#root = { kid: jwk.kid, cert: new x509.X509Certificate(Buffer.from(row.der)) };
    return this.#root;
  }

  async #createRoot(jwk: PublicJwk): Promise<x509.X509Certificate> {
    const spki = createPublicKey({ key: { ...jwk }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    const publicKey = new x509.PublicKey(spki);
    const { crypto, signingKey } = keyStoreCrypto(this.#keys, CA_KEY_NAME);
    const now = this.#now();
    const name = `CN=Tasdiq Device CA (${jwk.kid}), O=Tasdiq, C=UZ`;
    return x509.X509CertificateGenerator.create(
      {
        serialNumber: serialNumber(),
        subject: name,
        issuer: name,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + ROOT_YEARS * 365 * DAY),
        publicKey,
        signingKey,
        signingAlgorithm: ECDSA_SHA256,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
        ],
      },
      crypto,
    );
  }

  /**
   * A device certificate: authentication keys get digitalSignature (and clientAuth),
   * signing keys nonRepudiation only, so a relying party can tell a login from a signature.
   */
  async issue(input: { spki: Uint8Array; pinfl: string; deviceId: string; purpose: CertificatePurpose }): Promise<IssuedCertificate> {
    const root = await this.root();
    const { crypto, signingKey } = keyStoreCrypto(this.#keys, CA_KEY_NAME);
    const publicKey = new x509.PublicKey(Buffer.from(input.spki));
    const now = this.#now();
    const notBefore = now - 60_000;
    const notAfter = now + DEVICE_CERT_DAYS * DAY;
    const serial = serialNumber();
    const usage =
      input.purpose === 'auth'
        ? [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false)]
        : [new x509.KeyUsagesExtension(x509.KeyUsageFlags.nonRepudiation, true)];
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial,
        subject: [
          { '2.5.4.3': [`Tasdiq ${input.purpose === 'auth' ? 'authentication' : 'signature'} ${input.deviceId}`] },
          { '2.5.4.5': [pinflSerialNumber(input.pinfl)] },
          { '2.5.4.6': ['UZ'] },
        ],
        issuer: root.cert.subjectName,
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
        publicKey,
        signingKey,
        signingAlgorithm: ECDSA_SHA256,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          ...usage,
          await x509.AuthorityKeyIdentifierExtension.create(root.cert, false, crypto),
          new x509.CRLDistributionPointsExtension([this.crlUrl]),
        ],
      },
      crypto,
    );
    return { serial, der: new Uint8Array(cert.rawData), notBefore, notAfter, issuerKid: root.kid };
  }

  /**
   * The current CRL. Signing one is the costly part, and anyone may ask for it, so the signed
   * CRL is reused while the set of revocations is unchanged (one indexed count to know, so a
   * revocation committed by any instance shows at once) and for at most CRL_REUSE_MS.
   */
  async crl(): Promise<Uint8Array> {
    const now = this.#now();
    const root = await this.root();
    const state = await this.#db
      .selectFrom('device_certificates')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('revoked_at').as('latest')])
      .where('revoked_at', 'is not', null)
      .where('issuer_kid', '=', root.kid)
      .executeTakeFirstOrThrow();
    const fingerprint = `${root.kid}:${state.n}:${state.latest ?? 0}`;
    const cached = this.#crlCache;
    if (cached && cached.fingerprint === fingerprint && now - cached.builtAt < CRL_REUSE_MS) return cached.der;
    const der = await this.#signCrl(root, now);
    this.#crlCache = { fingerprint, builtAt: now, der };
    return der;
  }

  /** A CRL of every revoked certificate that has not yet expired, valid for an hour. */
  async #signCrl(root: Awaited<ReturnType<DeviceCa['root']>>, now: number): Promise<Uint8Array> {
    const revoked = await this.#db
      .selectFrom('device_certificates')
      .select(['serial', 'revoked_at', 'revocation_reason'])
      .where('revoked_at', 'is not', null)
      .where('not_after', '>', now)
      .where('issuer_kid', '=', root.kid)
      .orderBy('serial')
      .execute();
    const { crypto, signingKey } = keyStoreCrypto(this.#keys, CA_KEY_NAME);
    const crl = await x509.X509CrlGenerator.create(
      {
        issuer: root.cert.subjectName,
        thisUpdate: new Date(now),
        nextUpdate: new Date(now + 3_600_000),
        signingKey,
        signingAlgorithm: ECDSA_SHA256,
        entries: revoked.map((r) => ({
          serialNumber: r.serial,
          revocationDate: new Date(r.revoked_at!),
          reason: CRL_REASONS[r.revocation_reason ?? ''] ?? x509.X509CrlReason.unspecified,
        })),
      },
      crypto,
    );
    return new Uint8Array(crl.rawData);
  }
}
