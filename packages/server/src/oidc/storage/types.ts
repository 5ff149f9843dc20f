/** What oidc-provider asks of a storage adapter (one instance per model name). */
export interface AdapterPayload {
  [key: string]: unknown;
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumed?: number;
}

export interface ProviderAdapter {
  upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
  find(id: string): Promise<AdapterPayload | undefined>;
  findByUid(uid: string): Promise<AdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/**
 * Models that live long (days) or whose lifetime is set per client: kept in the durable
 * table. Everything else is short-lived (seconds to an hour) and goes to the ring or Redis.
 */
export const LONG_LIVED_MODELS: ReadonlySet<string> = new Set(['Session', 'Grant', 'RefreshToken', 'Client', 'RegistrationAccessToken', 'InitialAccessToken']);

/** Short-lived models that oidc-provider saves again under the same id (possibly with a new expiry). */
export const RESAVED_MODELS: ReadonlySet<string> = new Set(['Interaction', 'BackchannelAuthenticationRequest', 'DeviceCode']);
