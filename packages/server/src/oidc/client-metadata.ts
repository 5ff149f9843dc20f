import type { ClientRegistry, RelyingParty } from '../clients/index.ts';
import type { Logger } from '../platform/logger.ts';
import type { AdapterPayload, ProviderAdapter } from './storage/index.ts';

/** Client authentication the provider can actually perform (no TLS client-certificate plumbing yet). */
export const SUPPORTED_AUTH_METHODS: ReadonlySet<string> = new Set(['private_key_jwt']);

/** Tasdiq's own client metadata, carried next to the standard members. */
export const EXTRA_CLIENT_METADATA = ['tasdiq_sector', 'tasdiq_acr_values', 'tasdiq_fapi', 'tasdiq_names'] as const;

/** A registered relying party as oidc-provider client metadata. */
export function providerMetadata(rp: RelyingParty): AdapterPayload {
  const grantTypes = ['authorization_code'];
  if (rp.scopes.includes('offline_access')) grantTypes.push('refresh_token');
  if (rp.cibaDeliveryMode) grantTypes.push('urn:openid:params:grant-type:ciba');
  return {
    client_id: rp.clientId,
    client_name: rp.name.en,
    redirect_uris: [...rp.redirectUris],
    post_logout_redirect_uris: [...rp.postLogoutRedirectUris],
    response_types: ['code'],
    grant_types: grantTypes,
    token_endpoint_auth_method: rp.tokenEndpointAuthMethod,
    ...(rp.jwks ? { jwks: rp.jwks } : {}),
    ...(rp.jwksUri ? { jwks_uri: rp.jwksUri } : {}),
    scope: rp.scopes.join(' '),
    subject_type: rp.subjectType,
    // The sector is registered by an admin, so nothing is fetched from this URI
    // (sectorIdentifierUriValidate is off); it only names the sector to oidc-provider.
    ...(rp.subjectType === 'pairwise' ? { sector_identifier_uri: `https://${rp.sectorIdentifier}/` } : {}),
    id_token_signed_response_alg: rp.idTokenSignedResponseAlg,
    ...(rp.backchannelLogoutUri ? { backchannel_logout_uri: rp.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    ...(rp.cibaDeliveryMode
      ? {
          backchannel_token_delivery_mode: rp.cibaDeliveryMode,
          backchannel_user_code_parameter: false,
          ...(rp.cibaNotificationEndpoint ? { backchannel_client_notification_endpoint: rp.cibaNotificationEndpoint } : {}),
        }
      : {}),
    // FAPI 2.0: authorization requests only by PAR, access tokens bound to a DPoP key.
    ...(rp.fapi ? { require_pushed_authorization_requests: true, dpop_bound_access_tokens: true } : {}),
    tasdiq_sector: rp.sectorIdentifier,
    tasdiq_acr_values: [...rp.acrValues],
    tasdiq_fapi: rp.fapi,
    tasdiq_names: rp.name,
  };
}

/**
 * oidc-provider's `Client` model, read from the relying-party registry; disabled clients do not
 * exist, and neither do clients registered for an authentication method the provider cannot
 * perform (tls_client_auth: registered ahead of the TLS plumbing, refused as invalid_client).
 */
export class RegistryClientAdapter implements ProviderAdapter {
  readonly #registry: ClientRegistry;
  readonly #logger: Logger | undefined;
  constructor(registry: ClientRegistry, logger?: Logger) {
    this.#registry = registry;
    this.#logger = logger;
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const rp = await this.#registry.findActive(id);
    if (!rp) return undefined;
    if (!SUPPORTED_AUTH_METHODS.has(rp.tokenEndpointAuthMethod)) {
      this.#logger?.warn({ clientId: rp.clientId, method: rp.tokenEndpointAuthMethod }, 'client registered for an authentication method the provider does not offer');
      return undefined;
    }
    return providerMetadata(rp);
  }

  async upsert(): Promise<void> {
    throw new Error('relying parties are registered by an admin, not through the provider');
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}
