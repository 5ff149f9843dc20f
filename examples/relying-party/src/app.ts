import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import * as oidc from 'openid-client';
import type { ClientKey } from './keys.ts';
import { errorPage, homePage, pickLocale, type Citizen, type Locale } from './pages.ts';
import { SessionStore } from './sessions.ts';

export const ACR_REQUESTED = 'urn:tasdiq:acr:substantial';
/** What this service accepts: the level it asks for and anything stronger. */
export const ACR_ACCEPTED: readonly string[] = [ACR_REQUESTED, 'urn:tasdiq:acr:high'];
export const SCOPE = 'openid profile pinfl';

export interface RelyingPartyOptions {
  /** Tasdiq's public URL (the OpenID issuer). */
  readonly issuer: string;
  /** This service's own public URL; the redirect and post-logout URIs hang off it. */
  readonly publicUrl: string;
  readonly clientId: string;
  readonly key: ClientKey;
  readonly logger?: boolean;
}

/** One sign-in in flight: everything the callback must check, used once. */
interface Transaction {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** The key the access token gets bound to; the same one must sign every use of it. */
  readonly dpopKeys: oidc.CryptoKeyPair;
  readonly locale: Locale;
}

interface Session {
  readonly citizen: Citizen;
  /** Sent back as id_token_hint at sign-out, so Tasdiq knows whose session to end. */
  readonly idToken: string;
}

const TX_COOKIE = 'rp_tx';
const SESSION_COOKIE = 'rp_session';

/** The registration document an admin feeds to `tasdiq client register --file`. */
export function registration(options: Pick<RelyingPartyOptions, 'publicUrl' | 'clientId' | 'key'>): Record<string, unknown> {
  const base = options.publicUrl.replace(/\/$/, '');
  return {
    client_id: options.clientId,
    name: { 'uz-Latn': 'Namuna xizmat', 'uz-Cyrl': 'Намуна хизмат', ru: 'Пример сервиса', en: 'Example service' },
    redirect_uris: [`${base}/callback`],
    post_logout_redirect_uris: [`${base}/signed-out`],
    jwks: { keys: [options.key.publicJwk] },
    token_endpoint_auth_method: 'private_key_jwt',
    scopes: SCOPE.split(' '),
    acr_values: [...ACR_ACCEPTED],
    // FAPI 2.0: Tasdiq then insists on PAR and DPoP, which this service uses anyway.
    fapi: true,
    contacts: ['dev@example.uz'],
  };
}

function claimString(claims: Record<string, unknown>, name: string): string {
  const value = claims[name];
  return typeof value === 'string' ? value : '';
}

/** Surname, given name, patronymic: the order Uzbek documents use; `name` only if parts are missing. */
function fullName(claims: Record<string, unknown>, suffix: string): string {
  const parts = ['family_name', 'given_name', 'middle_name'].map((c) => claimString(claims, `${c}${suffix}`)).filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : claimString(claims, `name${suffix}`);
}

/** A stable error code for the page: the OAuth `error` when the provider sent one. */
function errorCode(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError || error instanceof oidc.ResponseBodyError) return error.error;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return 'signin_failed';
}

export async function createRelyingParty(options: RelyingPartyOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false });
  await app.register(cookie);
  // The sign-in and sign-out buttons are plain HTML forms.
  await app.register(formbody, { bodyLimit: 1024 });
  const base = options.publicUrl.replace(/\/$/, '');
  const secureCookies = base.startsWith('https:');
  const transactions = new SessionStore<Transaction>({ ttlMs: 10 * 60_000, max: 10_000 });
  const sessions = new SessionStore<Session>({ ttlMs: 8 * 3600_000, max: 100_000 });

  // Discovered on first use, so this service may start before Tasdiq; a failure is retried.
  let configuration: Promise<oidc.Configuration> | undefined;
  function config(): Promise<oidc.Configuration> {
    configuration ??= oidc
      .discovery(new URL(options.issuer), options.clientId, { id_token_signed_response_alg: 'ES256' }, oidc.PrivateKeyJwt(options.key.privateKey), {
        // Plain http only for a local Tasdiq (`npm start`); production issuers are https.
        ...(options.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  }

  function setCookie(reply: FastifyReply, name: string, value: string, maxAge: number): void {
    reply.setCookie(name, value, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge });
  }

  function locale(request: FastifyRequest): Locale {
    return pickLocale((request.query as { lang?: unknown }).lang, request.headers['accept-language']);
  }

  function html(reply: FastifyReply, status: number, body: string): FastifyReply {
    return reply
      .code(status)
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' " + new URL(options.issuer).origin + "; frame-ancestors 'none'")
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(body);
  }

  app.get('/', async (request, reply) => html(reply, 200, homePage(locale(request), sessions.get(request.cookies[SESSION_COOKIE])?.citizen)));

  app.get('/signed-out', async (request, reply) => html(reply, 200, homePage(locale(request), undefined, 'signedOut')));

  app.post('/login', async (request, reply) => {
    let configured: oidc.Configuration;
    try {
      configured = await config();
    } catch (error) {
      // Tasdiq down, or TASDIQ_ISSUER not exactly its PUBLIC_URL (the issuer must match).
      request.log.error({ code: errorCode(error) }, 'OpenID discovery failed');
      return html(reply, 502, errorPage(locale(request), 'issuer_unavailable'));
    }
    const dpopKeys = await oidc.randomDPoPKeyPair('ES256');
    const tx: Transaction = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      dpopKeys,
      locale: locale(request),
    };
    const url = await oidc.buildAuthorizationUrlWithPAR(
      configured,
      {
        redirect_uri: `${base}/callback`,
        scope: SCOPE,
        state: tx.state,
        nonce: tx.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(tx.codeVerifier),
        code_challenge_method: 'S256',
        acr_values: ACR_REQUESTED,
        ui_locales: tx.locale,
      },
      { DPoP: oidc.getDPoPHandle(configured, dpopKeys) },
    );
    setCookie(reply, TX_COOKIE, transactions.create(tx), 600);
    return reply.redirect(url.href, 303);
  });

  app.get('/callback', async (request, reply) => {
    const tx = transactions.take(request.cookies[TX_COOKIE]);
    reply.clearCookie(TX_COOKIE, { path: '/' });
    if (!tx) return html(reply, 400, errorPage(locale(request), 'no_signin_in_progress'));
    try {
      const configured = await config();
      const dpop = oidc.getDPoPHandle(configured, tx.dpopKeys);
      const tokens = await oidc.authorizationCodeGrant(
        configured,
        new URL(request.url, base),
        { pkceCodeVerifier: tx.codeVerifier, expectedState: tx.state, expectedNonce: tx.nonce, idTokenExpected: true },
        undefined,
        { DPoP: dpop },
      );
      const idClaims = tokens.claims()!;
      // The provider promises never to answer with a weaker level; the service checks anyway.
      if (typeof idClaims.acr !== 'string' || !ACR_ACCEPTED.includes(idClaims.acr)) {
        return html(reply, 403, errorPage(tx.locale, 'acr_too_low'));
      }
      const info = (await oidc.fetchUserInfo(configured, tokens.access_token, idClaims.sub, { DPoP: dpop })) as Record<string, unknown>;
      const citizen: Citizen = {
        sub: idClaims.sub,
        nameLatn: fullName(info, ''),
        nameCyrl: fullName(info, '#uz-Cyrl'),
        pinfl: typeof info.pinfl === 'string' ? info.pinfl : undefined,
        acr: idClaims.acr,
        amr: Array.isArray(idClaims.amr) ? idClaims.amr.map(String) : [],
      };
      setCookie(reply, SESSION_COOKIE, sessions.create({ citizen, idToken: tokens.id_token! }), 8 * 3600);
      return reply.redirect(`/?lang=${tx.locale}`, 303);
    } catch (error) {
      const code = errorCode(error);
      request.log.warn({ code }, 'sign-in failed');
      return html(reply, 400, errorPage(tx.locale, code));
    }
  });

  app.post('/logout', async (request, reply) => {
    const session = sessions.take(request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    if (!session) return reply.redirect('/signed-out', 303);
    const url = oidc.buildEndSessionUrl(await config(), {
      id_token_hint: session.idToken,
      post_logout_redirect_uri: `${base}/signed-out`,
    });
    return reply.redirect(url.href, 303);
  });

  return app;
}
