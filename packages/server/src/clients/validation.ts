import type { FieldProblem } from '../platform/errors.ts';
import { LOCALES, type Translations } from '../platform/i18n.ts';
import { isPrintableText } from '../platform/text.ts';
import { checkJwks } from './keys.ts';
import {
  CIBA_MODES,
  ID_TOKEN_ALGS,
  SUBJECT_TYPES,
  TOKEN_AUTH_METHODS,
  type CibaMode,
  type IdTokenAlg,
  type SubjectType,
  type TokenAuthMethod,
} from './schema.ts';
import { ACR_VALUES, SCOPES } from './vocabulary.ts';

/** The registration document an admin submits (`tasdiq client register --file client.json`). */
export interface ClientRegistration {
  readonly client_id: string;
  readonly name: Translations;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris: readonly string[];
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] } | null;
  readonly jwks_uri: string | null;
  readonly token_endpoint_auth_method: TokenAuthMethod;
  readonly tls_client_auth_subject_dn: string | null;
  readonly scopes: readonly string[];
  readonly acr_values: readonly string[];
  readonly sector_identifier: string;
  readonly subject_type: SubjectType;
  readonly fapi: boolean;
  readonly contacts: readonly string[];
  readonly backchannel_logout_uri: string | null;
  readonly ciba_delivery_mode: CibaMode | null;
  readonly ciba_notification_endpoint: string | null;
  /** ES256 by default; EdDSA on request. */
  readonly id_token_signed_response_alg: IdTokenAlg;
}

/** The registration fields in document order: what an admin may set (and replace with an update). */
export const REGISTRATION_FIELDS = [
  'client_id', 'name', 'redirect_uris', 'post_logout_redirect_uris', 'jwks', 'jwks_uri', 'token_endpoint_auth_method',
  'tls_client_auth_subject_dn', 'scopes', 'acr_values', 'sector_identifier', 'subject_type', 'fapi', 'contacts',
  'backchannel_logout_uri', 'ciba_delivery_mode', 'ciba_notification_endpoint', 'id_token_signed_response_alg',
] as const satisfies readonly (keyof ClientRegistration)[];

export interface ValidationOptions {
  /**
   * A developer's machine: the endpoints Tasdiq itself calls (jwks_uri, backchannel_logout_uri)
   * may then be plain http to localhost. Outside development they are https only.
   */
  readonly development?: boolean;
}

export type Validation = { ok: true; value: ClientRegistration } | { ok: false; errors: FieldProblem[] };

const KNOWN_FIELDS = new Set<string>(REGISTRATION_FIELDS);
/** Optional fields whose null means "not set", as in a document read back from the registry. */
const NULLABLE_FIELDS = new Set<string>(['jwks', 'jwks_uri', 'tls_client_auth_subject_dn', 'backchannel_logout_uri', 'ciba_delivery_mode', 'ciba_notification_endpoint']);
const CLIENT_ID = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/** Whether `value` has the form of a client id (3-64 characters: a-z, 0-9, dot, dash, underscore). */
export function isClientId(value: string): boolean {
  return CLIENT_ID.test(value);
}
const SECTOR = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const EMAIL = /^[^\s@<>]{1,64}@[^\s@<>]{1,190}\.[a-z]{2,}$/i;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

class Problems {
  readonly list: FieldProblem[] = [];
  add(field: string, code: string, message: string): void {
    this.list.push({ field, code, message });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** https everywhere; plain http only to the loopback address of a developer's machine. */
function checkUrl(field: string, value: unknown, problems: Problems, kind: 'redirect' | 'endpoint'): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) {
    problems.add(field, 'url_invalid', 'expected a URL of at most 2000 characters');
    return null;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.add(field, 'url_invalid', 'not a URL');
    return null;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    problems.add(field, 'url_not_https', 'must use https (http only for localhost)');
    return null;
  }
  if (url.hash || value.includes('#')) {
    problems.add(field, 'url_fragment', 'must not contain a fragment');
    return null;
  }
  if (url.username || url.password) {
    problems.add(field, 'url_credentials', 'must not contain credentials');
    return null;
  }
  if (kind === 'redirect' && value.includes('*')) {
    problems.add(field, 'url_wildcard', 'redirect URIs are matched exactly; wildcards are not allowed');
    return null;
  }
  return value;
}

function urlList(field: string, value: unknown, problems: Problems, options: { min: number; max: number }): string[] {
  if (value === undefined && options.min === 0) return [];
  if (!Array.isArray(value) || value.length < options.min || value.length > options.max) {
    problems.add(field, 'list_invalid', `expected a list of ${options.min} to ${options.max} URLs`);
    return [];
  }
  const urls = value.map((v, i) => checkUrl(`${field}.${i}`, v, problems, 'redirect')).filter((v): v is string => v !== null);
  if (new Set(urls).size !== urls.length) problems.add(field, 'list_duplicate', 'contains duplicates');
  return urls;
}

function optionalUrl(field: string, value: unknown, problems: Problems, options: { httpsOnly?: boolean; message?: string } = {}): string | null {
  if (value === undefined || value === null) return null;
  const url = checkUrl(field, value, problems, 'endpoint');
  if (url !== null && options.httpsOnly && !url.startsWith('https:')) {
    problems.add(field, 'url_not_https', options.message ?? 'must use https');
    return null;
  }
  return url;
}

function subsetOf(field: string, value: unknown, allowed: readonly string[], problems: Problems, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || !allowed.includes(v))) {
    problems.add(field, 'value_not_allowed', `expected a non-empty list of: ${allowed.join(', ')}`);
    return fallback;
  }
  return [...new Set(value as string[])];
}

function hostOf(uri: string): string {
  return new URL(uri).hostname;
}

/**
 * Checks a registration document and returns it normalised, or every problem at once so an
 * admin fixes a file in one pass. No shared client secrets: clients prove themselves with a
 * private key (private_key_jwt) or a TLS certificate. Asynchronous because every inline key
 * is imported (WebCrypto) to prove it usable.
 */
export async function validateRegistration(document: unknown, options: ValidationOptions = {}): Promise<Validation> {
  const problems = new Problems();
  if (!isRecord(document)) return { ok: false, errors: [{ field: '', code: 'not_object', message: 'expected a JSON object' }] };
  // A document as `tasdiq client show` (or the console) writes it has null for what is not set.
  const input = Object.fromEntries(Object.entries(document).filter(([key, value]) => !(value === null && NULLABLE_FIELDS.has(key))));
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) problems.add(key, 'unknown_field', 'not a registration field');
  }
  if ('client_secret' in input) problems.add('client_secret', 'secret_not_supported', 'shared secrets are not accepted');

  const clientId = input.client_id;
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    problems.add('client_id', 'client_id_invalid', '3-64 characters: lower-case letters, digits, dot, dash, underscore');
  }
  const name = {} as Record<string, string>;
  if (!isRecord(input.name)) {
    problems.add('name', 'name_invalid', `expected names in ${LOCALES.join(', ')}`);
  } else {
    for (const locale of LOCALES) {
      const n = input.name[locale];
      if (typeof n !== 'string' || n.trim().length === 0 || n.length > 200) {
        problems.add(`name.${locale}`, 'name_invalid', 'expected 1 to 200 characters');
      } else if (!isPrintableText(n)) {
        // The name is shown on the citizen's phone: no control or bidirectional override characters.
        problems.add(`name.${locale}`, 'name_invalid', 'contains control or text-direction characters');
      } else name[locale] = n.trim();
    }
  }
  const redirectUris = urlList('redirect_uris', input.redirect_uris, problems, { min: 1, max: 20 });
  const postLogout = urlList('post_logout_redirect_uris', input.post_logout_redirect_uris, problems, { min: 0, max: 20 });

  const method = input.token_endpoint_auth_method ?? 'private_key_jwt';
  if (!(TOKEN_AUTH_METHODS as readonly unknown[]).includes(method)) {
    problems.add('token_endpoint_auth_method', 'auth_method_invalid', `expected one of ${TOKEN_AUTH_METHODS.join(', ')}`);
  } else if (method !== 'private_key_jwt') {
    // Mutual TLS needs a TLS listener or a trusted proxy forwarding client certificates; until
    // one is configured the provider does not offer it, so such a client could never sign in.
    problems.add('token_endpoint_auth_method', 'auth_method_not_offered', `${String(method)} is not offered by this deployment; use private_key_jwt`);
  }
  const jwks = await checkJwks(input.jwks, problems.list);
  // Tasdiq fetches these itself: https, except to localhost on a developer's machine.
  const development = options.development === true;
  const serverSide = { httpsOnly: !development, message: 'must use https (http to localhost only in development)' };
  const jwksUri = optionalUrl('jwks_uri', input.jwks_uri, problems, serverSide);
  if (jwks && jwksUri) problems.add('jwks', 'jwks_both', 'give either jwks or jwks_uri, not both');
  if ((method === 'private_key_jwt' || method === 'self_signed_tls_client_auth') && !jwks && !jwksUri && input.jwks === undefined && input.jwks_uri === undefined) {
    problems.add('jwks', 'jwks_required', `${String(method)} needs the client's public keys (jwks or jwks_uri)`);
  }
  let subjectDn: string | null = null;
  if (method === 'tls_client_auth') {
    const dn = input.tls_client_auth_subject_dn;
    if (typeof dn !== 'string' || dn.trim().length === 0 || dn.length > 500 || !isPrintableText(dn)) {
      problems.add('tls_client_auth_subject_dn', 'subject_dn_required', 'tls_client_auth needs the certificate subject DN');
    } else subjectDn = dn.trim();
  } else if (input.tls_client_auth_subject_dn !== undefined) {
    problems.add('tls_client_auth_subject_dn', 'subject_dn_unexpected', 'only for tls_client_auth');
  }

  const scopes = subsetOf('scopes', input.scopes, SCOPES, problems, ['openid']);
  if (!scopes.includes('openid')) problems.add('scopes', 'openid_required', 'scopes must include openid');
  const acrValues = subsetOf('acr_values', input.acr_values, ACR_VALUES, problems, ['urn:tasdiq:acr:substantial']);

  const subjectType = input.subject_type ?? 'pairwise';
  if (!(SUBJECT_TYPES as readonly unknown[]).includes(subjectType)) {
    problems.add('subject_type', 'subject_type_invalid', `expected one of ${SUBJECT_TYPES.join(', ')}`);
  }
  let sector = input.sector_identifier;
  if (sector === undefined && redirectUris.length > 0) {
    // Without an explicit sector, pairwise subjects are per redirect host; several hosts would
    // give one citizen several subjects at the same service, so they must name a sector.
    const hosts = new Set(redirectUris.map(hostOf));
    if (hosts.size === 1) sector = [...hosts][0];
    else problems.add('sector_identifier', 'sector_required', 'redirect URIs span several hosts: name the sector');
  }
  if (sector !== undefined && (typeof sector !== 'string' || sector.length > 253 || !(SECTOR.test(sector) || LOOPBACK.has(sector)))) {
    problems.add('sector_identifier', 'sector_invalid', 'expected a host name such as soliq.uz');
  }
  if (input.fapi !== undefined && typeof input.fapi !== 'boolean') problems.add('fapi', 'fapi_invalid', 'expected true or false');
  const fapi = input.fapi === true;
  if (fapi && method === 'private_key_jwt' && jwksUri === null && jwks === null) problems.add('jwks', 'jwks_required', 'FAPI clients need keys');

  let contacts: string[] = [];
  if (!Array.isArray(input.contacts) || input.contacts.length === 0 || input.contacts.length > 10) {
    problems.add('contacts', 'contacts_invalid', 'expected 1 to 10 e-mail addresses');
  } else {
    contacts = input.contacts.filter((c): c is string => typeof c === 'string' && EMAIL.test(c));
    if (contacts.length !== input.contacts.length) problems.add('contacts', 'contacts_invalid', 'expected e-mail addresses');
  }
  const backchannelLogout = optionalUrl('backchannel_logout_uri', input.backchannel_logout_uri, problems, serverSide);

  const cibaMode = input.ciba_delivery_mode ?? null;
  if (cibaMode !== null && !(CIBA_MODES as readonly unknown[]).includes(cibaMode)) {
    problems.add('ciba_delivery_mode', 'ciba_mode_invalid', `expected one of ${CIBA_MODES.join(', ')} (push is not offered)`);
  }
  // The provider posts tokens' readiness there with a bearer token: https even for development.
  const cibaEndpoint = optionalUrl('ciba_notification_endpoint', input.ciba_notification_endpoint, problems, { httpsOnly: true });
  if (cibaMode === 'ping' && (input.ciba_notification_endpoint === undefined || input.ciba_notification_endpoint === null)) {
    problems.add('ciba_notification_endpoint', 'ciba_endpoint_required', 'ping mode needs a notification endpoint');
  }
  if (cibaMode !== null && subjectType === 'pairwise' && jwksUri === null) {
    // For backchannel-only use oidc-provider names the pairwise sector by the jwks_uri host.
    problems.add('jwks_uri', 'ciba_pairwise_needs_jwks_uri', 'a CIBA client with pairwise subjects must publish its keys at a jwks_uri');
  }
  if (cibaMode !== 'ping' && input.ciba_notification_endpoint !== undefined) {
    problems.add('ciba_notification_endpoint', 'ciba_endpoint_unexpected', 'only for ping mode');
  }
  const idTokenAlg = input.id_token_signed_response_alg ?? 'ES256';
  if (!(ID_TOKEN_ALGS as readonly unknown[]).includes(idTokenAlg)) {
    problems.add('id_token_signed_response_alg', 'id_token_alg_invalid', `expected one of ${ID_TOKEN_ALGS.join(', ')}`);
  }

  if (problems.list.length > 0) return { ok: false, errors: problems.list };
  return {
    ok: true,
    value: {
      client_id: clientId as string,
      name: name as Translations,
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogout,
      jwks,
      jwks_uri: jwksUri,
      token_endpoint_auth_method: method as TokenAuthMethod,
      tls_client_auth_subject_dn: subjectDn,
      scopes,
      acr_values: acrValues,
      sector_identifier: sector as string,
      subject_type: subjectType as SubjectType,
      fapi,
      contacts,
      backchannel_logout_uri: backchannelLogout,
      ciba_delivery_mode: cibaMode as CibaMode | null,
      ciba_notification_endpoint: cibaEndpoint,
      id_token_signed_response_alg: idTokenAlg as IdTokenAlg,
    },
  };
}
