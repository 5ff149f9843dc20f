import type { GrantInstance, KoaContextWithOidc, Provider } from 'oidc-provider';
import type { ProviderStorage } from './storage/index.ts';

/** Lifetimes in seconds, shared with provider.ts's TTL (kept here so grants and tokens agree). */
export const GRANT_LIFETIME = {
  /** A grant that serves refresh tokens lives as long as one. */
  offline: 30 * 86_400,
  /** Otherwise it serves codes and access tokens that end with the session: it lives as long. */
  session: 8 * 3600,
} as const;

function servesRefreshTokens(grant: GrantInstance): boolean {
  return grant.getOIDCScope().split(' ').includes('offline_access');
}

/** ttl.Grant: what the grant serves decides how long it lives, not a fixed month. */
export function grantTtl(_ctx: unknown, grant: GrantInstance): number {
  return servesRefreshTokens(grant) ? GRANT_LIFETIME.offline : GRANT_LIFETIME.session;
}

/** ttl.RefreshToken: never beyond the grant it hangs off (a rotated token does not outlive it). */
export function refreshTokenTtl(ctx: KoaContextWithOidc | undefined): number {
  const grant = (ctx?.oidc as { entities?: { Grant?: { exp?: number } } } | undefined)?.entities?.Grant;
  const left = typeof grant?.exp === 'number' ? grant.exp - Math.floor(Date.now() / 1000) : GRANT_LIFETIME.offline;
  return Math.max(1, Math.min(GRANT_LIFETIME.offline, left));
}

/**
 * The citizen's grant for a client: the live one they already have (one per citizen and
 * client, however many times they sign in), or a new one. Save it with `saveGrant`.
 */
export async function grantFor(provider: Provider, storage: ProviderStorage, accountId: string, clientId: string): Promise<GrantInstance> {
  for (const id of await storage.grantsOf(accountId, clientId)) {
    const grant = await provider.Grant.find(id);
    if (grant && grant.accountId === accountId && grant.clientId === clientId) return grant;
  }
  return new provider.Grant({ accountId, clientId });
}

/** Saves a grant with a lifetime counted from now, for what it serves now. */
export async function saveGrant(grant: GrantInstance): Promise<string> {
  const mutable = grant as unknown as { exp?: number; expiresIn?: number };
  delete mutable.exp;
  delete mutable.expiresIn;
  return grant.save();
}
