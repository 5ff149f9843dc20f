import { useCallback } from 'react';
import { api, ApiProblem } from '../../shared/api.ts';
import { LOCALES, useLocale, type Locale } from '../../shared/i18n.tsx';
import { useConsole } from '../session.tsx';
import type { ClientsKey } from './clients-text.ts';

export { SCOPES, ACR_VALUES } from '@tasdiq/server/clients/vocabulary.ts';

/** The relying-party admin API's shapes (docs/oidc.md, "Registering a relying party"). */
export const AUTH_METHODS = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'] as const;
export const ID_TOKEN_ALGS = ['ES256', 'EdDSA'] as const;
export const CIBA_MODES = ['none', 'poll', 'ping'] as const;

export type AuthMethod = (typeof AUTH_METHODS)[number];
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];
export type CibaChoice = (typeof CIBA_MODES)[number];
export type KeySource = 'jwks' | 'uri' | 'none';

export interface RelyingParty {
  readonly clientId: string;
  readonly name: Readonly<Record<Locale, string>>;
  readonly status: 'active' | 'disabled';
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly tokenEndpointAuthMethod: AuthMethod;
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] } | null;
  readonly jwksUri: string | null;
  readonly tlsClientAuthSubjectDn: string | null;
  readonly scopes: readonly string[];
  readonly acrValues: readonly string[];
  readonly sectorIdentifier: string;
  readonly subjectType: 'pairwise' | 'public';
  readonly fapi: boolean;
  readonly contacts: readonly string[];
  readonly backchannelLogoutUri: string | null;
  readonly cibaDeliveryMode: 'poll' | 'ping' | null;
  readonly cibaNotificationEndpoint: string | null;
  readonly idTokenSignedResponseAlg: IdTokenAlg;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

/** What the form holds: text as typed, lists one per line. */
export interface ClientForm {
  readonly clientId: string;
  readonly names: Readonly<Record<Locale, string>>;
  readonly redirectUris: string;
  readonly postLogoutUris: string;
  readonly authMethod: AuthMethod;
  readonly subjectDn: string;
  readonly keySource: KeySource;
  readonly jwks: string;
  readonly jwksUri: string;
  readonly scopes: readonly string[];
  readonly acrValues: readonly string[];
  readonly sector: string;
  readonly subjectType: 'pairwise' | 'public';
  readonly fapi: boolean;
  readonly contacts: string;
  readonly idTokenAlg: IdTokenAlg;
  readonly backchannel: string;
  readonly ciba: CibaChoice;
  readonly cibaEndpoint: string;
}

export function emptyForm(): ClientForm {
  return {
    clientId: '',
    names: { 'uz-Latn': '', 'uz-Cyrl': '', ru: '', en: '' },
    redirectUris: '',
    postLogoutUris: '',
    authMethod: 'private_key_jwt',
    subjectDn: '',
    keySource: 'jwks',
    jwks: '',
    jwksUri: '',
    scopes: ['openid'],
    acrValues: ['urn:tasdiq:acr:substantial'],
    sector: '',
    subjectType: 'pairwise',
    fapi: false,
    contacts: '',
    idTokenAlg: 'ES256',
    backchannel: '',
    ciba: 'none',
    cibaEndpoint: '',
  };
}

export function formOf(rp: RelyingParty): ClientForm {
  return {
    clientId: rp.clientId,
    names: { ...rp.name },
    redirectUris: rp.redirectUris.join('\n'),
    postLogoutUris: rp.postLogoutRedirectUris.join('\n'),
    authMethod: rp.tokenEndpointAuthMethod,
    subjectDn: rp.tlsClientAuthSubjectDn ?? '',
    keySource: rp.jwks ? 'jwks' : rp.jwksUri ? 'uri' : 'none',
    jwks: rp.jwks ? JSON.stringify(rp.jwks, null, 2) : '',
    jwksUri: rp.jwksUri ?? '',
    scopes: rp.scopes,
    acrValues: rp.acrValues,
    sector: rp.sectorIdentifier,
    subjectType: rp.subjectType,
    fapi: rp.fapi,
    contacts: rp.contacts.join('\n'),
    idTokenAlg: rp.idTokenSignedResponseAlg,
    backchannel: rp.backchannelLogoutUri ?? '',
    ciba: rp.cibaDeliveryMode ?? 'none',
    cibaEndpoint: rp.cibaNotificationEndpoint ?? '',
  };
}

/** One entry per line (URIs may hold commas); e-mail addresses may also be separated by commas. */
const lines = (text: string, separators = /\n/) =>
  text
    .split(separators)
    .map((l) => l.trim())
    .filter(Boolean);

/**
 * The registration document the API takes, or `jwks_not_json` when the pasted keys are no JSON
 * (the one check made here; every other rule is the server's, answered field by field).
 */
export function documentOf(form: ClientForm): { ok: true; document: Record<string, unknown> } | { ok: false } {
  let jwks: unknown;
  if (form.keySource === 'jwks') {
    try {
      jwks = JSON.parse(form.jwks);
    } catch {
      return { ok: false };
    }
  }
  const optional = (key: string, value: string) => (value.trim() ? { [key]: value.trim() } : {});
  return {
    ok: true,
    document: {
      client_id: form.clientId.trim(),
      name: Object.fromEntries(LOCALES.map((l) => [l, form.names[l]])),
      redirect_uris: lines(form.redirectUris),
      post_logout_redirect_uris: lines(form.postLogoutUris),
      token_endpoint_auth_method: form.authMethod,
      ...(form.authMethod === 'tls_client_auth' ? { tls_client_auth_subject_dn: form.subjectDn } : {}),
      ...(form.keySource === 'jwks' ? { jwks } : {}),
      ...(form.keySource === 'uri' ? { jwks_uri: form.jwksUri.trim() } : {}),
      scopes: form.scopes,
      acr_values: form.acrValues,
      ...optional('sector_identifier', form.sector),
      subject_type: form.subjectType,
      fapi: form.fapi,
      contacts: lines(form.contacts, /[\n,;]/),
      id_token_signed_response_alg: form.idTokenAlg,
      ...optional('backchannel_logout_uri', form.backchannel),
      ...(form.ciba !== 'none' ? { ciba_delivery_mode: form.ciba } : {}),
      ...(form.ciba === 'ping' ? optional('ciba_notification_endpoint', form.cibaEndpoint) : {}),
    },
  };
}

/** The form control a problem's field belongs to (`redirect_uris.2` → `redirect_uris`). */
export function controlOf(field: string): string {
  if (field === 'name') return 'name.uz-Latn';
  if (field.startsWith('name.')) return field;
  if (field === 'jwks' || field.startsWith('jwks.')) return 'jwks';
  return field.split('.')[0] ?? field;
}

export interface FieldError {
  readonly control: string;
  readonly message: string;
}

/** The API's per-field problems in the reader's language (the server's English words for codes not translated here). */
export function fieldErrors(
  problem: ApiProblem,
  t: (key: ClientsKey, values?: Record<string, string | number>) => string,
  has: (key: string) => key is ClientsKey,
): FieldError[] {
  return problem.errors.map((e) => {
    const key = `err_${e.code}`;
    const base = has(key) ? t(key) : e.message;
    const line = /^(?:redirect_uris|post_logout_redirect_uris)\.(\d+)$/.exec(e.field);
    const jwk = /^jwks\.keys\.(\d+)/.exec(e.field);
    const message = line ? t('line', { n: Number(line[1]) + 1, message: base }) : jwk ? t('key', { n: Number(jwk[1]) + 1, message: base }) : base;
    return { control: controlOf(e.field), message };
  });
}

/** Calls as the signed-in admin, with any method and extra headers (If-Match); a lost session signs out. */
export function useAdminApi() {
  const { locale } = useLocale();
  const { session, setSession } = useConsole();
  return useCallback(
    async <T>(path: string, options: { method?: 'GET' | 'POST' | 'PUT'; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> => {
      try {
        return await api<T>(path, { locale, csrf: session?.csrfToken, ...options });
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 401 && error.code === 'unauthorized') setSession(null);
        throw error;
      }
    },
    [locale, session, setSession],
  );
}
