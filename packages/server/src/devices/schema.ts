import type { Generated, Selectable } from 'kysely';

export const DEVICE_STATUSES = ['active', 'revoked'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];
export type CertificatePurpose = 'auth' | 'sign';
/**
 * Where the device keeps its keys: 'hardware' only when the activation carried a key
 * attestation that verified (attestation.ts); everything else, the browser app included, is
 * 'software'.
 */
export const KEY_STORAGES = ['software', 'hardware'] as const;
export type KeyStorage = (typeof KEY_STORAGES)[number];

/** A citizen's activated app: two P-256 keys, their certificates and the request counter. */
export interface DeviceTable {
  id: string;
  citizen_id: string;
  binding_id: string;
  status: DeviceStatus;
  /** Highest request counter accepted; a request must carry a larger one. */
  counter: number;
  /** SubjectPublicKeyInfo DER, base64url. */
  auth_public_key: string;
  sign_public_key: string;
  auth_cert_serial: string;
  sign_cert_serial: string;
  cert_not_after: number;
  /** How the phone binding behind it was made: 'in_person' | 'self_service'. */
  assurance: string;
  /** 'software' unless a verified key attestation showed both keys in secure hardware. */
  key_storage: Generated<KeyStorage>;
  /**
   * The passkey (WebAuthn, user verification required) registered at activation, whose
   * assertion over the request must come with every confirmation: its credential id and COSE
   * public key, base64url. Null: the app checks its citizen itself (a native key store).
   */
  uv_credential_id: string | null;
  uv_public_key: string | null;
  label: string | null;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
  revocation_reason: string | null;
}

/** The root certificate for each version of the CA key. */
export interface DeviceCaCertificateTable {
  kid: string;
  der: Uint8Array;
  created_at: number;
}

export interface DeviceCertificateTable {
  /** Hexadecimal, as in the certificate and the CRL. */
  serial: string;
  device_id: string;
  purpose: CertificatePurpose;
  issuer_kid: string;
  der: Uint8Array;
  not_before: number;
  not_after: number;
  revoked_at: number | null;
  revocation_reason: string | null;
}

export type Device = Selectable<DeviceTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    devices: DeviceTable;
    device_ca_certificates: DeviceCaCertificateTable;
    device_certificates: DeviceCertificateTable;
  }
}
