import type { Generated, Selectable } from 'kysely';

export const OPERATOR_ROLES = ['operator', 'notary', 'supervisor', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];
export type OperatorStatus = 'invited' | 'active' | 'disabled';

/** Staff of an office who enroll citizens; they sign in with passkeys only. */
export interface OperatorTable {
  id: string;
  name: string;
  office_id: string;
  role: OperatorRole;
  status: OperatorStatus;
  /** Random WebAuthn user handle (base64url), so the authenticator never holds our ids. */
  webauthn_user_id: string;
  created_by: string;
  created_at: number;
  row_version: Generated<number>;
}

export interface OperatorPasskeyTable {
  /** base64url credential id. */
  credential_id: string;
  operator_id: string;
  /** COSE public key. */
  public_key: Uint8Array;
  counter: number;
  /** JSON array of transports. */
  transports: string;
  device_type: string;
  backed_up: number;
  created_at: number;
  last_used_at: number | null;
}

/** One-time registration links (the first admin from the CLI, others from an admin). */
export interface OperatorInvitationTable {
  id: string;
  token_hash: string;
  operator_id: string;
  expires_at: number;
  used_at: number | null;
  created_by: string;
  created_at: number;
}

export interface OperatorSessionTable {
  id: string;
  token_hash: string;
  csrf_hash: string;
  operator_id: string;
  created_at: number;
  last_seen_at: number;
  /** Absolute end; the idle end is `last_seen_at` plus the idle limit. */
  expires_at: number;
  ended_at: number | null;
}

export interface WebauthnChallengeTable {
  id: string;
  challenge: string;
  purpose: 'register' | 'authenticate';
  invitation_id: string | null;
  expires_at: number;
  created_at: number;
}

export type EnrollmentStatus = 'active' | 'suspended' | 'revoked';
export type Assurance = 'in_person' | 'self_service';

export interface EnrollmentTable {
  id: string;
  citizen_id: string;
  office_id: string;
  operator_id: string;
  assurance: Assurance;
  status: EnrollmentStatus;
  /** citizen_id while not revoked, else null: a unique index keeps one live enrollment per citizen. */
  live_citizen_id: string | null;
  created_at: number;
  updated_at: number;
  row_version: Generated<number>;
}

export type BindingStatus = 'pending' | 'active' | 'replaced' | 'revoked' | 'abandoned';

export interface PhoneBindingTable {
  id: string;
  citizen_id: string;
  enrollment_id: string;
  /** E.164. */
  phone: string;
  mobile_operator: string;
  status: BindingStatus;
  /** 0/1: replaces the citizen's active binding once confirmed. */
  rebind: number;
  /** SHA-256 of binding id and SMS code; cleared once confirmed. */
  code_hash: string | null;
  attempts: number;
  code_expires_at: number;
  /** phone / citizen_id while active, else null: unique indexes give one phone per citizen and one citizen per phone. */
  active_phone: string | null;
  active_citizen_id: string | null;
  operator_id: string;
  office_id: string;
  notification_id: string | null;
  created_at: number;
  bound_at: number | null;
  ended_at: number | null;
}

export interface ActivationCodeTable {
  id: string;
  code_hash: string;
  citizen_id: string;
  binding_id: string;
  assurance: Assurance;
  operator_id: string;
  office_id: string;
  expires_at: number;
  used_at: number | null;
  voided_at: number | null;
  created_at: number;
}

export type Operator = Selectable<OperatorTable>;
export type Enrollment = Selectable<EnrollmentTable>;
export type PhoneBinding = Selectable<PhoneBindingTable>;

declare module '../platform/db/types.ts' {
  interface Database {
    operators: OperatorTable;
    operator_passkeys: OperatorPasskeyTable;
    operator_invitations: OperatorInvitationTable;
    operator_sessions: OperatorSessionTable;
    webauthn_challenges: WebauthnChallengeTable;
    enrollments: EnrollmentTable;
    phone_bindings: PhoneBindingTable;
    activation_codes: ActivationCodeTable;
  }
}
