import type { AliasableExpression, ExpressionBuilder } from 'kysely';
import type { Database, Db, Tx } from '../platform/db/index.ts';
import type { Device } from './schema.ts';

/** What an activation code grants, as the enrollment module's `consumeActivationCode` returns it. */
export interface ActivationGrant {
  readonly citizenId: string;
  readonly bindingId: string;
  readonly phone: string;
  readonly assurance: 'in_person' | 'self_service';
}

/**
 * What devices and auth sessions need from identity and enrollment. The production wiring
 * (`directory.ts`) delegates to those modules; keeping it behind an interface lets this module
 * build and be tested while they land, and keeps their tables theirs.
 */
export interface CitizenDirectory {
  /** Marks the code used in the caller's transaction; null for unknown, used or expired codes. */
  consumeActivationCode(tx: Tx, code: string, now: number): Promise<ActivationGrant | null>;
  pinflOf(db: Db | Tx, citizenId: string): Promise<string | undefined>;
  citizenByPinfl(db: Db | Tx, pinfl: string): Promise<string | undefined>;
  /** The citizen whose active binding is this E.164 number. */
  citizenByPhone(db: Db | Tx, e164: string): Promise<string | undefined>;
  /** The citizen's active binding; none while the enrollment is suspended or revoked. */
  activeBinding(db: Db | Tx, citizenId: string): Promise<{ bindingId: string; phone: string } | undefined>;
  /**
   * Starting a sign-in: the citizen named by PINFL or phone, their active binding (none while
   * suspended or revoked) and newest active device, in one query. `probe` lets the caller add
   * one scalar of its own about the citizen (the auth module's cool-down probe) to the same
   * query, so a sign-in start reads everything it needs in one round trip.
   */
  signInSubject(db: Db | Tx, subject: { pinfl: string } | { phone: string }, probe?: { readonly build: SubjectProbe; readonly value: number }): Promise<SignInSubject | undefined>;
}

/**
 * A correlated scalar subquery over the citizen row (`citizens.id`), e.g. a count or a time,
 * given one number (`value`, a query parameter). The same function each time: its SQL is
 * prepared once and reused.
 */
export type SubjectProbe = (eb: ExpressionBuilder<Database, 'citizens'>, value: number) => AliasableExpression<number | null>;

/** What a sign-in start reads of the citizen's device: whose it is, under which binding, and its certificates. */
export const SIGN_IN_DEVICE_COLUMNS = ['id', 'citizen_id', 'binding_id', 'cert_not_after', 'auth_cert_serial', 'sign_cert_serial'] as const satisfies ReadonlyArray<keyof Device>;
export type SignInDevice = Pick<Device, (typeof SIGN_IN_DEVICE_COLUMNS)[number]>;

/**
 * A device certificate and its issuer's, as DER: the chain (x5c) a signature made under it
 * names. A certificate never changes, so the devices module hands out the same object for a
 * serial each time, and a caller may keep what it derives from it (an encoded header) with it.
 */
export interface CertificateChain {
  readonly leaf: Uint8Array;
  readonly issuer: Uint8Array;
}

export interface SignInSubject {
  readonly citizenId: string;
  readonly binding: { readonly bindingId: string; readonly phone: string } | undefined;
  readonly device: SignInDevice | undefined;
  /** What the caller's probe answered (null without one). */
  readonly extra: number | null;
}

/** The audit module's `recordAudit`, as agreed in the cross-module contract. */
export interface AuditEvent {
  readonly actorType: 'operator' | 'citizen' | 'device' | 'client' | 'system';
  readonly actorId: string;
  readonly action: string;
  readonly subjectCitizenId?: string | null;
  readonly reason?: string | null;
  readonly details?: Record<string, unknown>;
  readonly requestId?: string;
}
export type AuditRecorder = (tx: Tx, event: AuditEvent, now: number) => Promise<unknown>;

export interface DeviceDependencies {
  readonly directory: CitizenDirectory;
  readonly audit: AuditRecorder;
}
