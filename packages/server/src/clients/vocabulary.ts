/**
 * The scopes and assurance levels a relying party can be allowed. Shared by the registry
 * (what an admin may grant) and the OpenID provider (what a request may ask for).
 */
export const SCOPES = ['openid', 'profile', 'pinfl', 'birthdate', 'phone', 'document', 'offline_access'] as const;
export type Scope = (typeof SCOPES)[number];

/** Levels of assurance, weakest first: SMS code; app with PIN or biometrics; app after in-person enrollment with a hardware-backed key. */
export const ACR_VALUES = ['urn:tasdiq:acr:low', 'urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'] as const;
export type AcrValue = (typeof ACR_VALUES)[number];

export function acrRank(acr: string): number {
  return (ACR_VALUES as readonly string[]).indexOf(acr);
}
