import type { TasdiqModule } from '../platform/module.ts';
import { identityMigrations } from './migrations.ts';
import './errors.ts';

export { validatePinfl, makePinfl, pinflCheckDigit, PINFL_REASONS, type PinflValidation, type PinflErrorCode } from './pinfl.ts';
export { normalizePhone, maskPhone, UZ_MOBILE_OPERATORS, UZ_MOBILE_PREFIXES, PHONE_REASONS, type PhoneResult, type PhoneErrorCode } from './phone.ts';
export { CitizenRepository } from './repository.ts';
export { IdentityErrors } from './errors.ts';
export type { Citizen, IdentityDocument, DocumentKind } from './schema.ts';
export * from './registry/index.ts';

/** The local registry of citizens (imported from the population registry on enrollment). */
export const identityModule: TasdiqModule = {
  name: 'identity',
  migrations: identityMigrations,
};
