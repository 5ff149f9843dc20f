import { errors } from 'oidc-provider';
import { CLAIMS_BY_SCOPE } from './citizens.ts';

/** Claims every signed-in client gets with `openid`: never asked about on the consent page. */
export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

const SCOPE_OF_CLAIM: ReadonlyMap<string, string> = new Map(
  Object.entries(CLAIMS_BY_SCOPE).flatMap(([scope, claims]) => claims.map((claim) => [claim, scope] as const)),
);

/** The scope a claim belongs to (`given_name#uz-Cyrl` → `profile`); undefined for unknown claims. */
export function scopeOfClaim(claim: string): string | undefined {
  return SCOPE_OF_CLAIM.get(claim);
}

/** Every claim a set of scopes covers. */
export function claimsOfScopes(scopes: Iterable<string>): string[] {
  return [...scopes].flatMap((scope) => CLAIMS_BY_SCOPE[scope] ?? []);
}

/**
 * The members of a `claims` request parameter (a JSON string, or already parsed) under
 * `userinfo` and `id_token`; empty for anything that is not such an object.
 */
export function claimsRequestMembers(claims: unknown): Array<{ readonly container: 'userinfo' | 'id_token'; readonly members: Record<string, unknown> }> {
  let parsed: unknown = claims;
  if (typeof claims === 'string') {
    try {
      parsed = JSON.parse(claims);
    } catch {
      return [];
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  return (['userinfo', 'id_token'] as const).flatMap((container) => {
    const members = (parsed as Record<string, unknown>)[container];
    return typeof members === 'object' && members !== null ? [{ container, members: members as Record<string, unknown> }] : [];
  });
}

/** The claim names a `claims` request parameter (JSON string or object) asks for, in userinfo and the ID token. */
export function requestedClaimNames(claims: unknown): string[] {
  const names = new Set<string>();
  for (const { members } of claimsRequestMembers(claims)) for (const name of Object.keys(members)) names.add(name);
  return [...names];
}

/**
 * A `claims` request parameter may ask only for claims of scopes the client is registered for:
 * individual claims are a finer choice within those scopes, never a way around them.
 */
export function assertClaimsWithinScopes(claims: unknown, registeredScopes: readonly string[]): void {
  const outside = requestedClaimNames(claims).filter((claim) => {
    if (PROTOCOL_CLAIMS.has(claim)) return false;
    const scope = scopeOfClaim(claim);
    return scope !== undefined && !registeredScopes.includes(scope);
  });
  if (outside.length > 0) {
    throw new errors.InvalidRequest(`the claims parameter asks for claims this client is not registered for: ${outside.sort().join(', ')}`);
  }
}

/** Claims the citizen is asked about beyond those the scopes being granted already cover. */
export function claimsBeyondScopes(claims: readonly string[], scopes: Iterable<string>): string[] {
  const covered = new Set(claimsOfScopes(scopes));
  return [...new Set(claims)].filter((claim) => !PROTOCOL_CLAIMS.has(claim) && scopeOfClaim(claim) !== undefined && !covered.has(claim)).sort();
}

/** True when consented scopes and claims cover what is asked (protocol claims need none). */
export function consentCovers(consent: { readonly scopes: readonly string[]; readonly claims: readonly string[] } | undefined, scopes: readonly string[], claims: readonly string[]): boolean {
  const consentedScopes = new Set(consent?.scopes ?? []);
  const consentedClaims = new Set([...(consent?.claims ?? []), ...claimsOfScopes(consentedScopes)]);
  return scopes.every((s) => s === 'openid' || consentedScopes.has(s)) && claims.every((c) => PROTOCOL_CLAIMS.has(c) || consentedClaims.has(c));
}
