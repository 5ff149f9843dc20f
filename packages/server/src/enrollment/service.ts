import type { Db } from '../platform/db/index.ts';
import { isUniqueViolation } from '../platform/db/index.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import { recordAudit } from '../audit/index.ts';
import { revokeDevicesForCitizen } from '../devices/service.ts';
import { validatePinfl } from '../identity/pinfl.ts';
import { IdentityErrors } from '../identity/errors.ts';
import { CitizenRepository } from '../identity/repository.ts';
import { RegistryAnswerInvalidError, RegistryUnavailableError, type PopulationRegistry, type RegistryCitizen } from '../identity/registry/types.ts';
import { documentKey } from '../identity/registry/file-registry.ts';
import { EnrollmentErrors } from './errors.ts';
import { auditBy, pinflRef, type Actor } from './actor.ts';
import { isExpired, localCitizenJson, registryCitizenJson, type CitizenJson } from './citizen-view.ts';
import type { Enrollment } from './schema.ts';
import { newId } from './secrets.ts';
import { EnrollmentTexts, localized, notActive, notFoundCitizen } from './texts.ts';

export function checkPinfl(pinfl: string, now: number): string {
  const result = validatePinfl(pinfl, now);
  if (!result.ok) throw new ApiError(result.code, { localizedDetail: result.reason });
  return pinfl.trim();
}

async function askRegistry<T>(registry: PopulationRegistry | undefined, ask: (r: PopulationRegistry) => Promise<T>): Promise<T> {
  if (!registry) throw new ApiError(IdentityErrors.registry_unavailable, localized(EnrollmentTexts.noRegistry));
  try {
    return await ask(registry);
  } catch (error) {
    if (error instanceof RegistryAnswerInvalidError) throw new ApiError(IdentityErrors.registry_answer_invalid);
    if (error instanceof RegistryUnavailableError) throw new ApiError(IdentityErrors.registry_unavailable);
    throw error;
  }
}

/** Any registry, not only the HTTP connector, must answer about the very person asked for. */
async function registryByPinfl(registry: PopulationRegistry | undefined, pinfl: string): Promise<RegistryCitizen | undefined> {
  const record = await askRegistry(registry, (r) => r.findByPinfl(pinfl));
  if (record && record.pinfl !== pinfl) throw new ApiError(IdentityErrors.registry_answer_invalid);
  return record;
}

async function registryByDocument(registry: PopulationRegistry | undefined, series: string, number: string): Promise<RegistryCitizen | undefined> {
  const record = await askRegistry(registry, (r) => r.findByDocument(series, number));
  const key = documentKey(series, number);
  if (record && !record.documents.some((d) => documentKey(d.series, d.number) === key)) throw new ApiError(IdentityErrors.registry_answer_invalid);
  return record;
}


export type LookupQuery = { pinfl: string } | { document: { series: string; number: string } };

/**
 * Looks a person up in the registry. The audit event names the citizen when they are known
 * here, and always carries a keyed hash of the PINFL (`subjectRef`), so "who looked up this
 * PINFL" can be answered for people never enrolled, without storing their PINFL.
 */
export async function lookupCitizen(
  db: Db,
  registry: PopulationRegistry | undefined,
  query: LookupQuery,
  reason: string | null,
  actor: Actor,
  now: number,
  pinflKey: Buffer,
): Promise<CitizenJson> {
  const record =
    'pinfl' in query
      ? await registryByPinfl(registry, checkPinfl(query.pinfl, now))
      : await registryByDocument(registry, query.document.series, query.document.number);
  if (!record) throw new ApiError(IdentityErrors.citizen_not_in_registry);
  const local = await new CitizenRepository(db).findByPinfl(record.pinfl);
  await recordAudit(
    db,
    auditBy(actor, {
      action: 'registry.lookup',
      subjectCitizenId: local?.id ?? null,
      reason,
      details: { by: 'pinfl' in query ? 'pinfl' : 'document', source: registry!.source, subjectRef: pinflRef(pinflKey, record.pinfl) },
    }),
    now,
  );
  return registryCitizenJson(db, record, local, now);
}

function presentedDocument(record: RegistryCitizen, series: string, number: string, now: number) {
  const key = documentKey(series, number);
  const document = record.documents.find((d) => documentKey(d.series, d.number) === key);
  if (!document) throw new ApiError(IdentityErrors.document_not_of_citizen);
  if (isExpired(document.expiresOn, now)) {
    throw new ApiError(
      IdentityErrors.document_expired,
      localized(document.kind === 'passport' ? EnrollmentTexts.passportExpired : EnrollmentTexts.idCardExpired, { expiresOn: document.expiresOn }),
    );
  }
  return document;
}

/** Imports the registry record and enrolls the citizen in person, in one transaction. */
export async function enrollCitizen(
  db: Db,
  registry: PopulationRegistry | undefined,
  input: { pinfl: string; document: { series: string; number: string } },
  reason: string | null,
  actor: Actor,
  now: number,
): Promise<CitizenJson> {
  const pinfl = checkPinfl(input.pinfl, now);
  const record = await registryByPinfl(registry, pinfl);
  if (!record) throw new ApiError(IdentityErrors.citizen_not_in_registry);
  const document = presentedDocument(record, input.document.series, input.document.number, now);
  const existing = await new CitizenRepository(db).findByPinfl(pinfl);
  if (existing) {
    const live = await db.selectFrom('enrollments').select('id').where('live_citizen_id', '=', existing.id).executeTakeFirst();
    if (live) throw new ApiError(EnrollmentErrors.already_enrolled);
  }
  try {
    const citizenId = await db.transaction().execute(async (tx) => {
      const id = await new CitizenRepository(tx).importFromRegistry(record, registry!.source, now);
      const enrollment: Enrollment = {
        id: newId('enr'),
        citizen_id: id,
        office_id: actor.operator.office_id,
        operator_id: actor.operator.id,
        assurance: 'in_person',
        status: 'active',
        live_citizen_id: id,
        created_at: now,
        updated_at: now,
        row_version: 1,
      };
      await tx.insertInto('enrollments').values(enrollment).execute();
      await recordAudit(
        tx,
        auditBy(actor, {
          action: 'enrollment.created',
          subjectCitizenId: id,
          reason,
          details: { enrollmentId: enrollment.id, assurance: 'in_person', documentKind: document.kind, documentExpiresOn: document.expiresOn, source: registry!.source },
        }),
        now,
      );
      return id;
    });
    return citizenView(db, citizenId, now);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    // Either a racing enrollment of the same person won, or one of their documents is
    // recorded here for somebody else (the documents' unique index): say which.
    const raced = await new CitizenRepository(db).findByPinfl(pinfl);
    const live = raced && (await db.selectFrom('enrollments').select('id').where('live_citizen_id', '=', raced.id).executeTakeFirst());
    if (live) throw new ApiError(EnrollmentErrors.already_enrolled);
    throw new ApiError(CommonErrors.conflict, localized(EnrollmentTexts.documentHeldByAnother));
  }
}

export async function citizenView(db: Db, citizenId: string, now: number): Promise<CitizenJson> {
  const repository = new CitizenRepository(db);
  const citizen = await repository.findById(citizenId);
  if (!citizen) throw notFoundCitizen();
  return localCitizenJson(db, citizen, await repository.documents(citizenId), now);
}

async function liveEnrollment(db: Db, citizenId: string): Promise<Enrollment> {
  const citizen = await db.selectFrom('citizens').select('id').where('id', '=', citizenId).executeTakeFirst();
  if (!citizen) throw notFoundCitizen();
  const enrollment = await db.selectFrom('enrollments').selectAll().where('live_citizen_id', '=', citizenId).executeTakeFirst();
  if (!enrollment) throw new ApiError(EnrollmentErrors.not_enrolled);
  return enrollment;
}

export type LifecycleAction = 'suspend' | 'resume' | 'revoke';

/** Suspend, resume or revoke, each with a mandatory reason; revoking also ends the phone binding and voids codes. */
export async function changeEnrollment(db: Db, citizenId: string, action: LifecycleAction, reason: string, actor: Actor, now: number): Promise<CitizenJson> {
  const enrollment = await liveEnrollment(db, citizenId);
  if (action === 'suspend' && enrollment.status !== 'active') throw notActive(enrollment.status);
  if (action === 'resume' && enrollment.status !== 'suspended') throw new ApiError(EnrollmentErrors.enrollment_not_suspended);
  const status = action === 'suspend' ? 'suspended' : action === 'resume' ? 'active' : 'revoked';
  await db.transaction().execute(async (tx) => {
    const changed = await tx
      .updateTable('enrollments')
      .set({ status, updated_at: now, row_version: enrollment.row_version + 1, ...(status === 'revoked' ? { live_citizen_id: null } : {}) })
      .where('id', '=', enrollment.id)
      .where('row_version', '=', enrollment.row_version)
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) throw new ApiError(CommonErrors.conflict, localized(EnrollmentTexts.enrollmentChanged));
    if (status === 'revoked') {
      await tx
        .updateTable('phone_bindings')
        .set({ status: 'revoked', code_hash: null, active_phone: null, active_citizen_id: null, ended_at: now })
        .where('citizen_id', '=', citizenId)
        .where('status', 'in', ['active', 'pending'])
        .execute();
      // Issue 4: the app's certificates go on the CRL with the enrollment, not at their expiry.
      await revokeDevicesForCitizen(tx, citizenId, 'enrollment_revoked', now);
    }
    if (status !== 'active') {
      await tx.updateTable('activation_codes').set({ voided_at: now }).where('citizen_id', '=', citizenId).where('used_at', 'is', null).where('voided_at', 'is', null).execute();
    }
    const verb = action === 'suspend' ? 'suspended' : action === 'resume' ? 'resumed' : 'revoked';
    await recordAudit(tx, auditBy(actor, { action: `enrollment.${verb}`, subjectCitizenId: citizenId, reason, details: { enrollmentId: enrollment.id } }), now);
  });
  return citizenView(db, citizenId, now);
}
