import type { DocumentKind } from '../schema.ts';

export interface RegistryName {
  readonly surname: string;
  readonly given: string;
  readonly patronymic: string;
}

export interface RegistryDocument {
  readonly kind: DocumentKind;
  readonly series: string;
  readonly number: string;
  readonly issuedOn: string;
  readonly expiresOn: string;
  readonly issuingOffice: string;
}

/** A person as the state population registry describes them. */
export interface RegistryCitizen {
  readonly pinfl: string;
  readonly name: { readonly latn: RegistryName; readonly cyrl: RegistryName };
  readonly birthDate: string;
  readonly sex: 'M' | 'F';
  readonly citizenship: string;
  readonly photo: string | null;
  readonly documents: readonly RegistryDocument[];
  /** True for synthetic demo records. */
  readonly demo: boolean;
}

/**
 * The population registry: identity data comes from the state, never from an operator
 * typing it. `undefined` means the registry does not know the person; a registry that cannot
 * be reached throws `RegistryUnavailableError`.
 */
export interface PopulationRegistry {
  readonly source: string;
  findByPinfl(pinfl: string): Promise<RegistryCitizen | undefined>;
  findByDocument(series: string, number: string): Promise<RegistryCitizen | undefined>;
}

export class RegistryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryUnavailableError';
  }
}

/**
 * The registry answered, but not with a valid record of the person asked for (a malformed
 * record, another person, a document lookup answered with someone not holding it). A kind of
 * unavailability (nothing usable came back), answered as `502 registry_answer_invalid`.
 * `problem` names the field, never its value.
 */
export class RegistryAnswerInvalidError extends RegistryUnavailableError {
  readonly problem: string;
  constructor(problem: string) {
    super(`registry answer is invalid: ${problem}`);
    this.name = 'RegistryAnswerInvalidError';
    this.problem = problem;
  }
}
