/** Shapes of the operator console API (docs/api/enrollment.md). */

export type Role = 'operator' | 'notary' | 'supervisor' | 'admin';

export interface Operator {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly officeId: string;
  readonly status: string;
}

export interface Office {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
}

export interface Session {
  readonly operator: Operator;
  readonly office?: Office;
  readonly csrfToken: string;
}

export interface PersonName {
  readonly surname: string;
  readonly given: string;
  readonly patronymic: string | null;
}

export interface CitizenDocument {
  readonly kind: 'id_card' | 'passport';
  readonly series: string;
  readonly number: string;
  readonly issuedOn: string;
  readonly expiresOn: string;
  readonly issuingOffice: string;
  readonly expired: boolean;
}

export interface Citizen {
  readonly id: string | null;
  readonly pinfl: string;
  readonly name: { readonly latn: PersonName; readonly cyrl: PersonName | null };
  readonly birthDate: string;
  readonly sex: 'M' | 'F';
  readonly citizenship: string;
  readonly photo: string | null;
  readonly demo: boolean;
  readonly documents: readonly CitizenDocument[];
  readonly enrollment: {
    readonly id: string;
    readonly status: 'active' | 'suspended' | 'revoked';
    readonly assurance: string;
    readonly officeId: string;
    readonly operatorId: string;
    readonly createdAt: string;
  } | null;
  readonly binding: { readonly id: string; readonly phone: string; readonly mobileOperator: string; readonly status: string; readonly boundAt: string } | null;
  readonly pendingBinding: PendingBinding | null;
}

export interface PendingBinding {
  readonly id: string;
  readonly phone: string;
  readonly mobileOperator: string;
  readonly expiresAt: string;
  readonly attemptsLeft: number;
  readonly rebind: boolean;
  /** `waiting` for the code; `expired` or `exhausted` (no attempts left): a new code is needed. */
  readonly state: 'waiting' | 'expired' | 'exhausted';
}

export interface AuditEvent {
  readonly id: string;
  readonly at: string;
  readonly actorType: string;
  readonly actorId: string;
  readonly officeId: string | null;
  readonly action: string;
  readonly subjectCitizenId: string | null;
  readonly reason: string | null;
  readonly details: Record<string, unknown>;
}

export interface ActivationCode {
  readonly code: string;
  readonly activationUri: string;
  readonly qrSvg: string;
  readonly expiresAt: string;
}

export const SUPERVISING_ROLES: readonly Role[] = ['supervisor', 'admin'];
