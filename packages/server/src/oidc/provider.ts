import { createHmac } from 'node:crypto';
import { Provider, errors, type Configuration, type ExternalSigningKey, type KoaContextWithOidc, type ProviderClient } from 'oidc-provider';
import type { Logger } from '../platform/logger.ts';
import { negotiateLocale, type Locale } from '../platform/i18n.ts';
import type { ClientRegistry } from '../clients/index.ts';
import { ACR_VALUES, SCOPES } from '../clients/index.ts';
import type { ProviderStorage } from './storage/index.ts';
import { EXTRA_CLIENT_METADATA, RegistryClientAdapter } from './client-metadata.ts';
import { CLAIMS_BY_SCOPE, claimsFromCitizen, type CitizenDirectory } from './citizens.ts';
import type { ConsentRepository } from './consents.ts';
import type { Authenticator } from './authenticator.ts';
import { acceptableAcr, tasdiqInteractionPolicy } from './acr.ts';
import { assertClaimsWithinScopes, claimsOfScopes } from './claims.ts';
import { GRANT_LIFETIME, grantFor, grantTtl, refreshTokenTtl, saveGrant } from './grants.ts';
import { assertCibaConsent, type CibaFollower } from './ciba.ts';
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
  RefreshToken: GRANT_LIFETIME.offline,
  Session: GRANT_LIFETIME.session,
} as const;
export const KEY_RETENTION_MS = (TTL.IdToken + 3600) * 1000;

/** Every HTML page the provider renders itself (errors, logout): no framing, nothing from elsewhere. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

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
  /** Follows CIBA requests until the phone answers (shared by every request, resumed at start-up). */
  readonly ciba: Pick<CibaFollower, 'follow'>;
  readonly logger: Logger;
  readonly outboundFetch?: typeof fetch;
}

/** The Koa context members the page renderers use. */
type PageContext = KoaContextWithOidc & { type?: string; body?: string; get(header: string): string; set(header: string, value: string): void };

function htmlPage(ctx: PageContext, body: string): void {
  ctx.type = 'html';
  ctx.set('content-security-policy', PAGE_CSP);
  ctx.set('x-frame-options', 'DENY');
  ctx.set('cache-control', 'no-store');
  ctx.body = body;
}

export function tasdiqClient(client: ProviderClient | undefined): { sector: string; acrValues: string[]; fapi: boolean; scopes: string[] } {
  return {
    sector: String(client?.tasdiq_sector ?? ''),
    acrValues: Array.isArray(client?.tasdiq_acr_values) ? (client.tasdiq_acr_values as string[]) : [],
    fapi: client?.tasdiq_fapi === true,
    scopes: typeof client?.scope === 'string' ? client.scope.split(' ').filter(Boolean) : [],
  };
}

export { acceptableAcr, meetsAcr } from './acr.ts';

/** The language a request asks the citizen to be spoken to in (`ui_locales`), if it names one we have. */
export function uiLocale(uiLocales: unknown): Locale | undefined {
  if (typeof uiLocales !== 'string' || uiLocales.trim() === '') return undefined;
  const tags = uiLocales.trim().split(/\s+/).slice(0, 10);
  const sentinel = 'none' as unknown as Locale;
  const locale = negotiateLocale(tags.join(','), sentinel);
  return locale === sentinel ? undefined : locale;
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

/** oidc-provider's own check of the claims parameter's members, then Tasdiq's: claims only within the client's scopes. */
async function assertClaimsParameter(_ctx: KoaContextWithOidc, claims: Record<string, unknown>, client: ProviderClient): Promise<void> {
  for (const container of ['userinfo', 'id_token'] as const) {
    const members = claims[container];
    if (members === undefined) continue;
    for (const value of Object.values(members as Record<string, unknown>)) {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
        throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
      }
    }
  }
  assertClaimsWithinScopes(claims, tasdiqClient(client).scopes);
}

export function buildProvider(deps: ProviderDependencies): Provider {
  const { storage, registry, citizens, consents, authenticator } = deps;
  const clientAdapter = new RegistryClientAdapter(registry, deps.logger);
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
    // Only what can succeed here: no TLS listener or trusted client-certificate plumbing exists,
    // so tls_client_auth is neither advertised nor accepted (see docs/oidc.md).
    clientAuthMethods: ['private_key_jwt'],
    pkce: { required: () => true },
    ttl: {
      ...TTL,
      BackchannelAuthenticationRequest: () => TTL.BackchannelAuthenticationRequest,
      RefreshToken: (ctx: KoaContextWithOidc | undefined) => refreshTokenTtl(ctx),
      Grant: grantTtl,
    },
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
      if (grantId) {
        const found = await oidc.provider.Grant.find(grantId);
        if (found) return found;
      }
      // A consent the citizen gave earlier (and has not withdrawn) covers a new session, through
      // the one grant the citizen has for this client (a new one only when there is none).
      const accountId = oidc.session.accountId;
      if (!accountId) return undefined;
      const consent = await consents.find(accountId, oidc.client.clientId);
      if (!consent) return undefined;
      const grant = await grantFor(oidc.provider, storage, accountId, oidc.client.clientId);
      if (consent.scopes.length > 0) grant.addOIDCScope(consent.scopes.join(' '));
      const claims = [...consent.claims, ...claimsOfScopes(consent.scopes)];
      if (claims.length > 0) grant.addOIDCClaims(claims);
      await saveGrant(grant);
      return grant;
    },
    interactions: {
      policy: tasdiqInteractionPolicy(),
      url: (_ctx: KoaContextWithOidc, interaction: { uid: string }) => `/signin/${interaction.uid}`,
    },
    renderError: async (ctx: PageContext, out: Record<string, string>) => {
      htmlPage(ctx, renderErrorPage(out, ctx.get('accept-language')));
    },
    features: {
      devInteractions: { enabled: false },
      // Signing happens in the KeyStore; the private keys never reach oidc-provider.
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      claimsParameter: { enabled: true, assertClaimsParameter },
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
          htmlPage(ctx, renderLogoutPage(form, ctx.get('accept-language')));
        },
        postLogoutSuccessSource: async (ctx: PageContext) => {
          htmlPage(ctx, renderLoggedOutPage(ctx.get('accept-language')));
        },
      },
      backchannelLogout: { enabled: true },
      fapi: { enabled: true, profile: (_ctx: KoaContextWithOidc, client?: ProviderClient) => (tasdiqClient(client).fapi ? '2.0' : undefined) },
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
        // No client may send a user_code (backchannel_user_code_parameter is false for all, and
        // discovery says so); a client sending one anyway is refused rather than ignored.
        verifyUserCode: async (_ctx: KoaContextWithOidc, _account: unknown, userCode: string | undefined) => {
          if (userCode) throw new errors.InvalidRequest('user_code is not supported');
        },
        validateBindingMessage: async (_ctx: KoaContextWithOidc, message: string | undefined) => {
          if (message !== undefined && !isValidBindingMessage(message)) {
            throw new errors.InvalidBindingMessage(
              `binding_message must be 1 to ${BINDING_MESSAGE_MAX} letters, digits, spaces or punctuation, in any script`,
            );
          }
        },
        validateRequestContext: async (ctx: KoaContextWithOidc) => {
          acceptableAcr(ctx.oidc.params?.acr_values, tasdiqClient(ctx.oidc.client).acrValues, ctx.oidc.params?.claims);
        },
        triggerAuthenticationDevice: async (
          _ctx: KoaContextWithOidc,
          request: { jti: string; params: Record<string, unknown>; scope?: string; claims?: Record<string, unknown>; exp?: number },
          account: { accountId: string },
          client: ProviderClient,
        ) => {
          const acceptable = acceptableAcr(request.params.acr_values, tasdiqClient(client).acrValues, request.params.claims);
          // No screen to ask on: what the request wants must already be consented to.
          await assertCibaConsent(consents, account.accountId, client.clientId, request);
          const started = await authenticator.start({
            loginHint: String(request.params.login_hint ?? ''),
            acrValues: acceptable,
            client: { clientId: client.clientId, name: client.tasdiq_names as never },
            bindingMessage: typeof request.params.binding_message === 'string' ? request.params.binding_message : undefined,
            // No second screen shows a code at a counter or on a call: the phone always shows a
            // message to confirm (the binding message, else the service's name).
            interaction: 'confirmation_message',
            locale: uiLocale(request.params.ui_locales),
          });
          if (started.status !== 'pending') {
            await provider.backchannelResult(request.jti, new errors.AccessDenied(`authentication could not start (${started.reason})`));
            return;
          }
          const expiresAt = typeof request.exp === 'number' ? request.exp * 1000 : Date.now() + TTL.BackchannelAuthenticationRequest * 1000;
          await deps.ciba.follow({ jti: request.jti, attemptId: started.attemptId, accountId: account.accountId, clientId: client.clientId, acceptable, expiresAt });
        },
      },
    },
  };

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = secure;
  provider.use(async (ctx: KoaContextWithOidc & { body?: unknown; set?: (header: string, value: string) => void }, next: () => Promise<void>) => {
    // Every page the provider answers with (its own self-submitting forms included: it adds
    // their script's hash to this policy) cannot be framed and loads nothing from elsewhere.
    ctx.set?.('content-security-policy', PAGE_CSP);
    ctx.set?.('x-frame-options', 'DENY');
    await next();
    // oidc-provider always advertises the CIBA user_code parameter; Tasdiq supports none.
    if ((ctx.oidc as { route?: string } | undefined)?.route === 'discovery' && ctx.body && typeof ctx.body === 'object') {
      (ctx.body as Record<string, unknown>).backchannel_user_code_parameter_supported = false;
    }
  });
  return provider;
}
