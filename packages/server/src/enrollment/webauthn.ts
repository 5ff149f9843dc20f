import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Db } from '../platform/db/index.ts';
import { ApiError } from '../platform/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { EnrollmentErrors } from './errors.ts';
import { findInvitation, presentOperator, type OperatorJson } from './operators.ts';
import type { Operator } from './schema.ts';
import { newId } from './secrets.ts';
import { webauthnParty } from '../platform/webauthn.ts';
import { EnrollmentTexts, localized } from './texts.ts';

export const CHALLENGE_LIFETIME_MS = 5 * 60_000;

export interface RelyingParty {
  readonly id: string;
  readonly origin: string;
  readonly name: string;
}

export function relyingPartyFor(publicUrl: string): RelyingParty {
  return { ...webauthnParty(publicUrl), name: 'Tasdiq operator console' };
}

async function storeChallenge(db: Db, challenge: string, purpose: 'register' | 'authenticate', invitationId: string | null, now: number): Promise<string> {
  const id = newId('wac');
  await db
    .insertInto('webauthn_challenges')
    .values({ id, challenge, purpose, invitation_id: invitationId, expires_at: now + CHALLENGE_LIFETIME_MS, created_at: now })
    .execute();
  // Expired challenges are litter; clearing them here keeps the table small without a worker.
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<', now - CHALLENGE_LIFETIME_MS).execute();
  return id;
}

/** Takes a challenge out of the table: a second use of the same challenge finds nothing. */
async function takeChallenge(db: Db, where: { id?: string; invitationId?: string }, purpose: 'register' | 'authenticate', now: number): Promise<string | undefined> {
  let q = db.selectFrom('webauthn_challenges').selectAll().where('purpose', '=', purpose);
  if (where.id) q = q.where('id', '=', where.id);
  if (where.invitationId) q = q.where('invitation_id', '=', where.invitationId).orderBy('created_at', 'desc');
  const row = await q.executeTakeFirst();
  if (!row) return undefined;
  const deleted = await db.deleteFrom('webauthn_challenges').where('id', '=', row.id).executeTakeFirst();
  if (Number(deleted.numDeletedRows) !== 1 || row.expires_at <= now) return undefined;
  return row.challenge;
}

export async function registrationOptions(db: Db, rp: RelyingParty, token: string, now: number) {
  const { invitationId, operator } = await findInvitation(db, token, now);
  const existing = await db.selectFrom('operator_passkeys').select(['credential_id', 'transports']).where('operator_id', '=', operator.id).execute();
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: operator.id,
    userDisplayName: operator.name,
    userID: Buffer.from(operator.webauthn_user_id, 'base64url'),
    attestationType: 'none',
    // A passkey alone must not be enough for someone who picked up an unlocked laptop: the
    // authenticator has to verify the operator (PIN, fingerprint, face), and we check the flag.
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    supportedAlgorithmIDs: [-7, -257],
    excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) as AuthenticatorTransport[] })),
  });
  await storeChallenge(db, options.challenge, 'register', invitationId, now);
  return { operator: presentOperator(operator), options };
}

export async function verifyRegistration(
  db: Db,
  rp: RelyingParty,
  token: string,
  response: RegistrationResponseJSON,
  now: number,
  requestId: string,
): Promise<OperatorJson & { operatorRow: Operator }> {
  const { invitationId, operator } = await findInvitation(db, token, now);
  const challenge = await takeChallenge(db, { invitationId }, 'register', now);
  if (!challenge) throw new ApiError(EnrollmentErrors.passkey_registration_failed, localized(EnrollmentTexts.registrationChallengeGone));
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
  } catch {
    throw new ApiError(EnrollmentErrors.passkey_registration_failed, localized(EnrollmentTexts.passkeyNotVerified));
  }
  if (!verification.verified || !verification.registrationInfo) throw new ApiError(EnrollmentErrors.passkey_registration_failed, localized(EnrollmentTexts.passkeyNotVerified));
  const info = verification.registrationInfo;
  await db.transaction().execute(async (tx) => {
    // The invitation is spent inside the same transaction as the passkey: two racing
    // registrations with one link cannot both succeed.
    const used = await tx
      .updateTable('operator_invitations')
      .set({ used_at: now })
      .where('id', '=', invitationId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) throw new ApiError(EnrollmentErrors.invitation_invalid);
    await tx
      .insertInto('operator_passkeys')
      .values({
        credential_id: info.credential.id,
        operator_id: operator.id,
        public_key: info.credential.publicKey,
        counter: info.credential.counter,
        transports: JSON.stringify(info.credential.transports ?? []),
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp ? 1 : 0,
        created_at: now,
        last_used_at: null,
      })
      .execute();
    await tx.updateTable('operators').set({ status: 'active', row_version: operator.row_version + 1 }).where('id', '=', operator.id).execute();
    await recordAudit(tx, { actorType: 'operator', actorId: operator.id, officeId: operator.office_id, action: 'operator.registered', requestId }, now);
  });
  const active = { ...operator, status: 'active' as const };
  return { ...presentOperator(active), operatorRow: active };
}

export async function authenticationOptions(db: Db, rp: RelyingParty, now: number) {
  const options = await generateAuthenticationOptions({ rpID: rp.id, allowCredentials: [], userVerification: 'required' });
  const challengeId = await storeChallenge(db, options.challenge, 'authenticate', null, now);
  return { challengeId, options };
}

type SignInFailure = 'unknown_passkey' | 'other_user' | 'not_verified' | 'operator_disabled' | 'operator_not_active';

/**
 * A refused sign-in with a live challenge goes to the audit log (`operator.sign_in_failed`):
 * against the operator whose passkey it was when it is known (a phishing page's origin, a
 * forged signature, no user verification), else against nobody. Challenges are rate-limited
 * and single use, so strangers cannot fill the log faster than they can fetch challenges.
 */
async function recordFailure(db: Db, operator: Operator | undefined, why: SignInFailure, requestId: string, now: number, error?: string): Promise<void> {
  await recordAudit(
    db,
    {
      actorType: operator ? 'operator' : 'system',
      actorId: operator?.id ?? 'unknown',
      officeId: operator?.office_id ?? null,
      action: 'operator.sign_in_failed',
      details: { why, ...(error ? { error: error.slice(0, 200) } : {}) },
      requestId,
    },
    now,
  );
}

export async function verifyAuthentication(
  db: Db,
  rp: RelyingParty,
  challengeId: string,
  response: AuthenticationResponseJSON,
  now: number,
  requestId: string,
): Promise<Operator> {
  const challenge = await takeChallenge(db, { id: challengeId }, 'authenticate', now);
  if (!challenge) throw new ApiError(EnrollmentErrors.webauthn_failed, localized(EnrollmentTexts.signInChallengeGone));
  const passkey = await db.selectFrom('operator_passkeys').selectAll().where('credential_id', '=', response.id).executeTakeFirst();
  const operator = passkey && (await db.selectFrom('operators').selectAll().where('id', '=', passkey.operator_id).executeTakeFirst());
  if (!passkey || !operator) {
    await recordFailure(db, undefined, 'unknown_passkey', requestId, now);
    throw new ApiError(EnrollmentErrors.webauthn_failed, localized(EnrollmentTexts.passkeyUnknown));
  }
  const userHandle = response.response.userHandle;
  if (userHandle && userHandle !== operator.webauthn_user_id) {
    await recordFailure(db, operator, 'other_user', requestId, now);
    throw new ApiError(EnrollmentErrors.webauthn_failed, localized(EnrollmentTexts.passkeyOtherUser));
  }
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: passkey.credential_id,
        publicKey: new Uint8Array(passkey.public_key),
        counter: passkey.counter,
        transports: JSON.parse(passkey.transports) as AuthenticatorTransport[],
      },
      requireUserVerification: true,
    });
  } catch (error) {
    await recordFailure(db, operator, 'not_verified', requestId, now, (error as Error).message);
    throw new ApiError(EnrollmentErrors.webauthn_failed, localized(EnrollmentTexts.passkeyNotVerified));
  }
  if (!verification.verified) {
    await recordFailure(db, operator, 'not_verified', requestId, now);
    throw new ApiError(EnrollmentErrors.webauthn_failed, localized(EnrollmentTexts.passkeyNotVerified));
  }
  if (operator.status === 'disabled') {
    await recordFailure(db, operator, 'operator_disabled', requestId, now);
    throw new ApiError(EnrollmentErrors.operator_disabled);
  }
  if (operator.status !== 'active') {
    await recordFailure(db, operator, 'operator_not_active', requestId, now);
    throw new ApiError(EnrollmentErrors.webauthn_failed);
  }
  await db.transaction().execute(async (tx) => {
    await tx
      .updateTable('operator_passkeys')
      .set({ counter: verification.authenticationInfo.newCounter, last_used_at: now })
      .where('credential_id', '=', passkey.credential_id)
      .execute();
    await recordAudit(tx, { actorType: 'operator', actorId: operator.id, officeId: operator.office_id, action: 'operator.signed_in', requestId }, now);
  });
  return operator;
}
