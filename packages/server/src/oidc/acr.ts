import { errors, interactionPolicy, type KoaContextWithOidc, type ProviderClient } from 'oidc-provider';
import { acrRank } from '../clients/index.ts';
import { claimsRequestMembers } from './claims.ts';

/** What a request says about assurance: `acr_values` and an essential `acr` in the claims parameter. */
export interface AcrRequest {
  readonly acrValues?: unknown;
  /** The `claims` request parameter as sent (a JSON string), or its parsed form. */
  readonly claims?: unknown;
}

const sorted = (values: Iterable<string>) => [...values].sort((a, b) => acrRank(a) - acrRank(b));

/** The acr values of an essential `acr` member of the claims parameter (id_token or userinfo). */
export function essentialAcr(claims: unknown): string[] {
  const out = new Set<string>();
  for (const { members } of claimsRequestMembers(claims)) {
    const member = members.acr as Record<string, unknown> | null | undefined;
    if (typeof member !== 'object' || member === null || member.essential !== true) continue;
    if (typeof member.value === 'string') out.add(member.value);
    if (Array.isArray(member.values)) for (const v of member.values) if (typeof v === 'string') out.add(v);
  }
  return [...out];
}

/**
 * The acr values a request may be satisfied with, weakest first. Each source that names levels
 * (acr_values, an essential acr claim) must name at least one the client is registered for, or
 * the request is refused: it is never silently served at a lower level. Asking for nothing
 * means the client's registered levels. With both sources, the weakest acceptable level is the
 * stronger of their two floors.
 */
export function acceptableAcr(requested: unknown, allowed: readonly string[], essentialClaims?: unknown): string[] {
  const asked = typeof requested === 'string' ? requested.split(' ').filter(Boolean) : [];
  const essential = essentialAcr(essentialClaims);
  const sources = [asked, essential].filter((s) => s.length > 0);
  if (sources.length === 0) return sorted(allowed);
  let floor = -1;
  const candidates = new Set<string>();
  for (const source of sources) {
    const acceptable = source.filter((a) => allowed.includes(a));
    if (acceptable.length === 0) {
      throw new errors.InvalidRequest(
        source === asked ? 'acr_values asks for assurance levels this client is not registered for' : 'the essential acr claim asks for assurance levels this client is not registered for',
      );
    }
    floor = Math.max(floor, Math.min(...acceptable.map(acrRank)));
    for (const a of acceptable) candidates.add(a);
  }
  return sorted([...candidates].filter((a) => acrRank(a) >= floor));
}

/** True when an achieved acr is at least the weakest acceptable one. */
export function meetsAcr(achieved: string | undefined, acceptable: readonly string[]): boolean {
  const weakest = acceptable[0];
  return weakest !== undefined && achieved !== undefined && acrRank(achieved) >= 0 && acrRank(achieved) >= acrRank(weakest);
}

function registeredLevels(client: ProviderClient | undefined): string[] {
  return Array.isArray(client?.tasdiq_acr_values) ? (client.tasdiq_acr_values as string[]) : [];
}

type PolicyContext = KoaContextWithOidc & {
  oidc: { params: Record<string, unknown>; client: ProviderClient; session: { accountId?: string; acr?: string } };
};

/**
 * oidc-provider's interaction policy with Tasdiq's assurance rule in the login prompt: an
 * existing session (single sign-on) whose acr ranks below the weakest level this request
 * accepts asks the citizen to sign in again (or, with prompt=none, answers login_required).
 * The built-in essential-acr checks want an exact match, which would loop a citizen who signed
 * in at a higher level; this check replaces them with the ranking.
 */
export function tasdiqInteractionPolicy(): unknown[] {
  const { Check, base } = interactionPolicy as unknown as {
    Check: new (reason: string, description: string, error: string, check: (ctx: PolicyContext) => boolean | Promise<boolean>) => unknown;
    base(): Array<{ name: string; checks: { remove(name: string): void; add(check: unknown): void } }> & { get(name: string): { checks: { remove(name: string): void; add(check: unknown): void } } };
  };
  const policy = base();
  const login = policy.get('login');
  login.checks.remove('essential_acr');
  login.checks.remove('essential_acrs');
  login.checks.add(
    new Check('acr_below_request', 'the session was established at a lower assurance level than this request needs', 'login_required', (ctx) => {
      const { oidc } = ctx;
      if (!oidc.session.accountId) return false;
      // Throws invalid_request when the request names only levels the client is not allowed.
      const acceptable = acceptableAcr(oidc.params.acr_values, registeredLevels(oidc.client), oidc.params.claims);
      return !meetsAcr(oidc.session.acr, acceptable);
    }),
  );
  return policy;
}
