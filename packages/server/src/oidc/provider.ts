import { createHmac } from 'node:crypto';
import { Provider, errors, type Configuration, type ExternalSigningKey, type KoaContextWithOidc, type ProviderClient } from 'oidc-provider';
import type { Logger } from '../platform/logger.ts';
import type { ClientRegistry } from '../clients/index.ts';
import { ACR_VALUES, SCOPES, acrRank } from '../clients/index.ts';
import type { ProviderStorage } from './storage/index.ts';
import { EXTRA_CLIENT_METADATA, RegistryClientAdapter } from './client-metadata.ts';
import { CLAIMS_BY_SCOPE, claimsFromCitizen, type CitizenDirectory } from './citizens.ts';
import type { ConsentRepository } from './consents.ts';
import type { Authenticator } from './authenticator.ts';
import { isValidBindingMessage, BINDING_MESSAGE_MAX } from './binding-message.ts';
import { parseLoginHint } from './login-hint.ts';
import { renderErrorPage, renderLoggedOutPage, renderLogoutPage } from './pages/error.ts';

/** Where the provider's endpoints live (issuer = the service's public URL). */
export const OIDC_ROUTES = {
  authorization: '/oidc/authorize',
  backchannel_authentication: '/oidc/backchannel',
  end_session: '/oidc/logout',
  introspection: '/oidc/introspect',
  jwks: '/oidc/jwks',
  pushed_authorization_request: '/oidc/par',
  revocation: '/oidc/revoke',
  token: '/oidc/token',
  userinfo: '/oidc/userinfo',
  // Not enabled, but oidc-provider wants every route named.
  code_verification: '/oidc/device',
  device_authorization: '/oidc/device/auth',
  registration: '/oidc/register',
  challenge: '/oidc/challenge',
  credential: '/oidc/credential',
} as const;

/** Lifetimes in seconds. Keys stay published for the longest-lived token they sign (the ID token). */
export const TTL = {
  AccessToken: 600,
  AuthorizationCode: 60,
  BackchannelAuthenticationRequest: 600,
  ClientCredentials: 600,
  IdToken: 3600,
  Interaction: 1800,
  RefreshToken: 30 * 86_400,
  Session: 8 * 3600,
  Grant: 30 * 86_400,
} as const;
export const KEY_RETENTION_MS = (TTL.IdToken + 3600) * 1000;

export interface ProviderDependencies {
  readonly issuer: string;
  readonly storage: ProviderStorage;
  readonly registry: ClientRegistry;
  readonly signingKeys: readonly ExternalSigningKey[];
  readonly pairwiseSecret: Buffer;
  readonly cookieKeys: readonly string[];
  readonly citizens: CitizenDirectory;
  readonly consents: ConsentRepository;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  /** CIBA: how often to ask the authenticator whether the phone has answered. */
  readonly cibaPollIntervalMs?: number;
  readonly outboundFetch?: typeof fetch;
  /** Aborted when the service stops: pending CIBA requests stop being followed. */
  readonly signal?: AbortSignal;
}

/** The Koa context members the page renderers use. */
type PageContext = KoaContextWithOidc & { type?: string; body?: string; get(header: string): string };

export function tasdiqClient(client: ProviderClient | undefined): { sector: string; acrValues: string[]; fapi: boolean } {
  return {
    sector: String(client?.tasdiq_sector ?? ''),
    acrValues: Array.isArray(client?.tasdiq_acr_values) ? (client.tasdiq_acr_values as string[]) : [],
    fapi: client?.tasdiq_fapi === true,
  };
}

/**
 * The acr values a request may be satisfied with: those it asked for that the client is
 * allowed, or the client's allowed ones when it asked for none. Throws when it asked only for
 * levels the client is not allowed, so a request is never silently served at a lower level.
 */
export function acceptableAcr(requested: unknown, allowed: readonly string[]): string[] {
  const asked = typeof requested === 'string' ? requested.split(' ').filter(Boolean) : [];
  const sorted = (values: readonly string[]) => [...values].sort((a, b) => acrRank(a) - acrRank(b));
  if (asked.length === 0) return sorted(allowed);
  const acceptable = asked.filter((a) => allowed.includes(a));
  if (acceptable.length === 0) throw new errors.InvalidRequest('acr_values asks for assurance levels this client is not registered for');
  return sorted(acceptable);
}

/** True when an achieved acr is at least the weakest acceptable one. */
export function meetsAcr(achieved: string, acceptable: readonly string[]): boolean {
  const weakest = acceptable[0];
  return weakest !== undefined && acrRank(achieved) >= acrRank(weakest);
}

/**
 * Request objects are short-lived, for every client (not only FAPI ones): exp, nbf and aud
 * present, exp in the future, at most an hour after nbf. oidc-provider alone accepts an
 * expired one at the PAR endpoint (answering with a negative expires_in).
 */
async function assertRequestObject(ctx: KoaContextWithOidc, claims: Record<string, unknown>): Promise<void> {
  const required = ['exp', 'nbf', 'aud'];
  if ((ctx.oidc as { route?: string }).route === 'backchannel_authentication') required.push('iat', 'jti');
  for (const claim of required) {
    if (claims[claim] === undefined) throw new errors.InvalidRequestObject(`Request Object is missing the '${claim}' claim`);
  }
  const now = Math.floor(Date.now() / 1000);
  const exp = Number(claims.exp);
  const nbf = Number(claims.nbf);
  if (!Number.isFinite(exp) || exp <= now) throw new errors.InvalidRequestObject('Request Object has expired');
  if (!Number.isFinite(nbf) || nbf > now + 5) throw new errors.InvalidRequestObject('Request Object is not yet valid');
  if (exp - nbf <= 0 || exp - nbf > 3600) throw new errors.InvalidRequestObject("Request Object 'exp' claim too far from 'nbf' claim");
}

export function buildProvider(deps: ProviderDependencies): Provider {
  const { storage, registry, citizens, consents, authenticator, logger } = deps;
  const clientAdapter = new RegistryClientAdapter(registry);
  const secure = deps.issuer.startsWith('https:');

  // oidc-provider instantiates its adapter with `new Adapter(modelName)`.
  function Adapter(this: unknown, model: string) {
    return model === 'Client' ? clientAdapter : storage.adapterFor(model);
  }

  const configuration: Configuration = {
    adapter: Adapter,
    jwks: { keys: [...deps.signingKeys] },
    routes: OIDC_ROUTES,
    scopes: [...SCOPES],
    claims: CLAIMS_BY_SCOPE,
    acrValues: [...ACR_VALUES],
    subjectTypes: ['pairwise', 'public'],
    responseTypes: ['code'],
    clientAuthMethods: ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'],
    pkce: { required: () => true },
    ttl: { ...TTL, BackchannelAuthenticationRequest: () => TTL.BackchannelAuthenticationRequest },
    cookies: {
      keys: [...deps.cookieKeys],
      long: { signed: true, secure, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, secure, httpOnly: true, sameSite: 'lax' },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'EdDSA'],
      userinfoSigningAlgValues: ['ES256', 'EdDSA'],
      introspectionSigningAlgValues: ['ES256', 'EdDSA'],
      authorizationSigningAlgValues: ['ES256', 'EdDSA'],
      requestObjectSigningAlgValues: ['ES256', 'EdDSA', 'PS256'],
      clientAuthSigningAlgValues: ['ES256', 'EdDSA', 'PS256'],
      dPoPSigningAlgValues: ['ES256', 'EdDSA'],
    },
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA], validator: () => undefined },
    clientBasedCORS: () => false,
    sectorIdentifierUriValidate: () => false,
    ...(deps.outboundFetch ? { fetch: deps.outboundFetch } : {}),
    pairwiseIdentifier: async (_ctx: KoaContextWithOidc, accountId: string, client: ProviderClient) =>
      createHmac('sha256', deps.pairwiseSecret).update(`${tasdiqClient(client).sector}\u0000${accountId}`).digest('base64url'),
    findAccount: async (_ctx: KoaContextWithOidc, sub: string) => {
      const citizen = await citizens.claims(sub);
      if (!citizen) return undefined;
      return { accountId: sub, claims: async () => claimsFromCitizen(sub, citizen) };
    },
    loadExistingGrant: async (ctx: KoaContextWithOidc) => {
      const oidc = ctx.oidc as unknown as {
        result?: { consent?: { grantId?: string } };
        session: { accountId?: string; grantIdFor(clientId: string): string | undefined };
        client: ProviderClient;
        provider: Provider;
      };
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      // A consent the citizen gave earlier (and has not withdrawn) covers a new session.
      const accountId = oidc.session.accountId;
      if (!accountId) return undefined;
      const consent = await consents.find(accountId, oidc.client.clientId);
      if (!consent) return undefined;
      const grant = new oidc.provider.Grant({ accountId, clientId: oidc.client.clientId });
      grant.addOIDCScope(consent.scopes.join(' '));
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx: KoaContextWithOidc, interaction: { uid: string }) => `/signin/${interaction.uid}` },
    renderError: async (ctx: PageContext, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = renderErrorPage(out, ctx.get('accept-language'));
    },
    features: {
      devInteractions: { enabled: false },
      // Signing happens in the KeyStore; the private keys never reach oidc-provider.
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      claimsParameter: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      dPoP: { enabled: true },
      requestObjects: { enabled: true, requireSignedRequestObject: false, assertJwtClaimsAndHeader: assertRequestObject },
      // A client learns about and revokes its own tokens only.
      introspection: { enabled: true, allowedPolicy: async (_ctx: KoaContextWithOidc, client: ProviderClient, token: { clientId?: string }) => token.clientId === client.clientId },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: KoaContextWithOidc, client: ProviderClient, token: { clientId?: string }) => {
          if (token.clientId !== client.clientId) throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          return true;
        },
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: PageContext, form: string) => {
          ctx.type = 'html';
          ctx.body = renderLogoutPage(form, ctx.get('accept-language'));
        },
        postLogoutSuccessSource: async (ctx: PageContext) => {
          ctx.type = 'html';
          ctx.body = renderLoggedOutPage(ctx.get('accept-language'));
        },
      },
      backchannelLogout: { enabled: true },
      fapi: { enabled: true, profile: (_ctx: KoaContextWithOidc, client?: ProviderClient) => (tasdiqClient(client).fapi ? '2.0' : undefined) },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        selfSignedTlsClientAuth: true,
        tlsClientAuth: true,
        // Only a TLS connection this server terminated carries a certificate; a proxy header is never trusted.
        getCertificate: (ctx: KoaContextWithOidc) => {
          const socket = ctx.socket as unknown as { getPeerCertificate?: (detailed: boolean) => { raw?: Buffer } };
          const raw = socket.getPeerCertificate?.(false)?.raw;
          return raw ? `-----BEGIN CERTIFICATE-----\n${raw.toString('base64')}\n-----END CERTIFICATE-----` : undefined;
        },
        certificateAuthorized: (ctx: KoaContextWithOidc) => (ctx.socket as unknown as { authorized?: boolean }).authorized === true,
        certificateSubjectMatches: (ctx: KoaContextWithOidc, property: string, expected: string) => {
          if (property !== 'tls_client_auth_subject_dn') return false;
          const socket = ctx.socket as unknown as { getPeerCertificate?: (detailed: boolean) => { subject?: Record<string, string> } };
          const subject = socket.getPeerCertificate?.(false)?.subject;
          if (!subject) return false;
          const dn = Object.entries(subject).map(([k, v]) => `${k}=${v}`).join(',');
          return dn.replace(/\s+/g, '') === expected.replace(/\s+/g, '');
        },
      },
      ciba: {
        enabled: true,
        deliveryModes: ['poll', 'ping'],
        processLoginHint: async (_ctx: KoaContextWithOidc, loginHint: string) => {
          const hint = parseLoginHint(loginHint);
          if (!hint) throw new errors.InvalidRequest('login_hint must be a phone number (+998...) or a 14-digit PINFL');
          const accountId = await citizens.resolveLoginHint(hint);
          if (!accountId) throw new errors.UnknownUserId('no citizen with an active Tasdiq phone matches login_hint');
          return accountId;
        },
        processLoginHintToken: async () => {
          throw new errors.InvalidRequest('login_hint_token is not supported; use login_hint');
        },
        verifyUserCode: async () => undefined,
        validateBindingMessage: async (_ctx: KoaContextWithOidc, message: string | undefined) => {
          if (message !== undefined && !isValidBindingMessage(message)) {
            throw new errors.InvalidBindingMessage(
              `binding_message must be 1 to ${BINDING_MESSAGE_MAX} letters, digits, spaces or punctuation, in any script`,
            );
          }
        },
        validateRequestContext: async (ctx: KoaContextWithOidc) => {
          acceptableAcr(ctx.oidc.params?.acr_values, tasdiqClient(ctx.oidc.client).acrValues);
        },
        triggerAuthenticationDevice: async (
          _ctx: KoaContextWithOidc,
          request: { jti: string; params: Record<string, unknown>; scope?: string; claims?: Record<string, unknown> },
          account: { accountId: string },
          client: ProviderClient,
        ) => {
          const acceptable = acceptableAcr(request.params.acr_values, tasdiqClient(client).acrValues);
          const started = await authenticator.start({
            loginHint: String(request.params.login_hint ?? ''),
            acrValues: acceptable,
            client: { clientId: client.clientId, name: client.tasdiq_names as never },
            bindingMessage: typeof request.params.binding_message === 'string' ? request.params.binding_message : undefined,
          });
          if (started.status !== 'pending') {
            await provider.backchannelResult(request.jti, new errors.AccessDenied(`authentication could not start (${started.reason})`));
            return;
          }
          void followBackchannel(request, account.accountId, client.clientId, started.attemptId, acceptable);
        },
      },
    },
  };

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = secure;

  /** Waits for the phone's answer and completes the CIBA request with a grant or an error. */
  async function followBackchannel(
    request: { jti: string; scope?: string; claims?: Record<string, unknown> },
    accountId: string,
    clientId: string,
    attemptId: string,
    acceptable: readonly string[],
  ): Promise<void> {
    const interval = deps.cibaPollIntervalMs ?? 1000;
    const deadline = Date.now() + TTL.BackchannelAuthenticationRequest * 1000;
    try {
      while (Date.now() < deadline && !deps.signal?.aborted) {
        const result = await authenticator.poll(attemptId);
        if (result.status === 'pending') {
          await new Promise((resolve) => setTimeout(resolve, interval).unref());
          continue;
        }
        if (result.status !== 'approved') {
          await provider.backchannelResult(request.jti, new errors.AccessDenied(`the citizen did not approve (${result.status})`));
          return;
        }
        if (result.citizenId !== accountId || !meetsAcr(result.acr, acceptable)) {
          await provider.backchannelResult(request.jti, new errors.AccessDenied('the authentication did not meet the request'));
          return;
        }
        const grant = new provider.Grant({ accountId, clientId });
        if (request.scope) grant.addOIDCScope(request.scope);
        await grant.save();
        await provider.backchannelResult(request.jti, grant, { acr: result.acr, amr: result.amr, authTime: result.authTime });
        return;
      }
    } catch (error) {
      logger.error({ err: error, attemptId }, 'CIBA request could not be completed');
    }
  }

  return provider;
}
