import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import QRCode from 'qrcode';
import { errors, type InteractionDetails } from 'oidc-provider';
import { isLocale, type Locale } from '../platform/i18n.ts';
import type { RelyingParty } from '../clients/index.ts';
import { ApiError } from '../platform/errors.ts';
import { OidcErrors } from './errors.ts';
import type { OidcService } from './service.ts';
import { PAGE_CSP, uiLocale } from './provider.ts';
import { acceptableAcr, meetsAcr } from './acr.ts';
import { claimsBeyondScopes, claimsOfScopes } from './claims.ts';
import { grantFor, saveGrant } from './grants.ts';
import { parseLoginHint } from './login-hint.ts';
import { html, raw, type RawHtml } from '../platform/html.ts';
import { layout, SIGNIN_CSS, SIGNIN_JS } from './pages/layout.ts';
import { renderSigninGonePage } from './pages/error.ts';
import { t, TEXTS, type TextKey } from './pages/texts.ts';

type Method = 'app' | 'sms_otp' | 'device_link';
const METHODS: readonly Method[] = ['app', 'device_link', 'sms_otp'];
const ACR_LOW = 'urn:tasdiq:acr:low';

/** The pending device authentication of an interaction, kept in the interaction itself (server side). */
interface PendingAttempt {
  readonly attemptId: string;
  /** Absent in attempts saved before methods existed: those are app attempts. */
  readonly method?: Method;
  readonly verificationCode: string;
  readonly deviceLink: string | null;
  readonly smsFallback: boolean;
  readonly acceptable: readonly string[];
  /** The phone or PINFL the citizen typed, so they can switch to an SMS code without typing it again. */
  readonly loginHint?: string;
}

const UID = { type: 'object', properties: { uid: { type: 'string', pattern: '^[A-Za-z0-9_-]{10,64}$' } }, required: ['uid'] } as const;
const PAGE_HEADERS = { 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY', 'cache-control': 'no-store' };

function pending(details: InteractionDetails): PendingAttempt | undefined {
  const tasdiq = details.result?.tasdiq as PendingAttempt | undefined;
  return tasdiq && typeof tasdiq.attemptId === 'string' ? tasdiq : undefined;
}

function serviceName(rp: RelyingParty | undefined, locale: Locale): string {
  return rp?.name[locale] ?? '';
}

function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(body);
}

/** The consent page's line for one claim asked individually (the `claims` parameter). */
function claimLabel(locale: Locale, claim: string): string {
  const [base = '', script] = claim.split('#');
  const profile: Record<string, TextKey> = { name: 'claimFullName', given_name: 'claimGivenName', family_name: 'claimFamilyName', middle_name: 'claimMiddleName' };
  const byScope: Record<string, TextKey> = {
    pinfl: 'claim_pinfl',
    birthdate: 'claim_birthdate',
    phone_number: 'claim_phone',
    phone_number_verified: 'claim_phone',
    document: 'claim_document',
  };
  const key = profile[base] ?? byScope[base];
  if (!key) return claim;
  return script === 'uz-Cyrl' ? `${t(locale, key)} ${t(locale, 'inCyrillic')}` : t(locale, key);
}

/** A sign-in that is over or unknown; carries where the citizen can start again, when known. */
class SigninGone extends Error {
  readonly startAgain: string | undefined;
  constructor(startAgain: string | undefined) {
    super('sign-in not found');
    this.startAgain = startAgain;
  }
}

const LANG_COOKIE = 'tasdiq_lang';

export async function interactionRoutes(app: FastifyInstance, oidc: OidcService): Promise<void> {
  await app.register(formbody, { bodyLimit: 4096 });
  // Requests whose language the citizen chose (?lang= or the cookie it leaves); otherwise the
  // request's ui_locales, then the browser's Accept-Language.
  const chosenLanguage = new WeakSet<FastifyRequest>();
  // A language picked on one page holds for the rest of the sign-in (consent is a new interaction).
  app.addHook('preHandler', async (request, reply) => {
    const lang = (request.query as { lang?: unknown } | undefined)?.lang;
    if (isLocale(lang)) {
      reply.header('set-cookie', `${LANG_COOKIE}=${lang}; Path=/signin; Max-Age=31536000; SameSite=Lax; HttpOnly`);
      chosenLanguage.add(request);
      return;
    }
    const saved = /(?:^|;\s*)tasdiq_lang=([A-Za-z-]+)/.exec(request.headers.cookie ?? '')?.[1];
    if (isLocale(saved)) {
      request.locale = saved;
      chosenLanguage.add(request);
    }
  });
  // A browser gets an HTML page in its language for a sign-in that is over; scripts (the page's
  // status poll, API callers) get the problem document.
  app.setErrorHandler(async (error, request, reply) => {
    if (!(error instanceof SigninGone)) throw error;
    const problem = new ApiError(OidcErrors.signin_not_found);
    if (!/text\/html/.test(request.headers.accept ?? '')) throw problem;
    return page(reply, problem.status, renderSigninGonePage(request.locale, error.startAgain));
  });
  // Per sign-in, not per address: citizens on mobile networks share addresses behind carrier
  // NAT. The global per-address limit still bounds a single source.
  const perSignin = (max: number) => ({
    rateLimit: { max, timeWindow: 60_000, keyGenerator: (request: FastifyRequest) => `signin:${(request.params as { uid?: string }).uid ?? ''}` },
  });
  const strict = perSignin(20);

  app.get('/signin/assets/signin.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(SIGNIN_CSS),
  );
  app.get('/signin/assets/signin.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(SIGNIN_JS),
  );

  /** Where a citizen whose sign-in is gone can start again: the service's site, when the interaction is still known. */
  async function startAgainFor(uid: string): Promise<string | undefined> {
    const stored = (await oidc.provider.Interaction.find(uid).catch(() => undefined)) as { params?: Record<string, unknown> } | undefined;
    const clientId = stored?.params?.client_id;
    const redirectUri = stored?.params?.redirect_uri;
    if (typeof clientId !== 'string' || typeof redirectUri !== 'string') return undefined;
    const rp = await oidc.registry.findActive(clientId);
    if (!rp?.redirectUris.includes(redirectUri)) return undefined;
    return `${new URL(redirectUri).origin}/`;
  }

  async function details(request: FastifyRequest, reply: FastifyReply): Promise<InteractionDetails> {
    const uid = (request.params as { uid: string }).uid;
    let found: InteractionDetails;
    try {
      found = await oidc.provider.interactionDetails(request.raw, reply.raw);
    } catch (error) {
      // No interaction cookie, or it expired: the citizen must start again from the service.
      if (error instanceof errors.OIDCProviderError) throw new SigninGone(await startAgainFor(uid));
      throw error;
    }
    if (found.uid !== uid) throw new SigninGone(await startAgainFor(uid));
    if (!chosenLanguage.has(request)) request.locale = uiLocale(found.params.ui_locales) ?? request.locale;
    return found;
  }

  async function save(found: InteractionDetails): Promise<void> {
    await found.save(Math.max(1, found.exp - Math.floor(Date.now() / 1000)));
  }

  async function finish(request: FastifyRequest, reply: FastifyReply, result: Record<string, unknown>): Promise<FastifyReply> {
    const url = await oidc.provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
    return reply.redirect(url, 303);
  }

  async function client(found: InteractionDetails): Promise<RelyingParty | undefined> {
    return oidc.registry.findActive(String(found.params.client_id ?? ''));
  }

  function acceptableFor(found: InteractionDetails, rp: RelyingParty): string[] {
    return acceptableAcr(found.params.acr_values, rp.acrValues, found.params.claims);
  }

  /** Withdraws the interaction's pending attempt, so the citizen's phone is free for the next one. */
  async function cancelPending(found: InteractionDetails): Promise<void> {
    const attempt = pending(found);
    if (attempt) await oidc.authenticator.cancel?.(attempt.attemptId);
  }

  /** The ways this client and this service let a citizen confirm; the app always. */
  function methodsFor(found: InteractionDetails, rp: RelyingParty | undefined): Method[] {
    let acceptable: string[] = [];
    try {
      acceptable = rp ? acceptableFor(found, rp) : [];
    } catch {
      // Refused when the page is shown; here it only means no SMS.
    }
    return METHODS.filter(
      (m) =>
        m === 'app' ||
        (m === 'device_link' && typeof oidc.authenticator.deviceLinkQr === 'function') ||
        // An SMS code proves only the low level: offered when the service accepts that.
        (m === 'sms_otp' && typeof oidc.authenticator.verifySmsCode === 'function' && meetsAcr(ACR_LOW, acceptable)),
    );
  }

  function entryPage(request: FastifyRequest, found: InteractionDetails, rp: RelyingParty | undefined, problem?: TextKey, value = '', chosen: Method = 'app'): string {
    const l = request.locale;
    const path = `/signin/${found.uid}`;
    const methods = methodsFor(found, rp);
    const label: Record<Method, TextKey> = { app: 'methodApp', device_link: 'methodQr', sms_otp: 'methodSms' };
    const body = html`
<p>${t(l, 'signingInto', { service: serviceName(rp, l) })}</p>
${problem ? html`<p class="error" role="alert" id="hint-error">${t(l, problem)}</p>` : ''}
<form method="post" action="${path}/start?lang=${l}" novalidate>
<label for="hint">${t(l, 'hintLabel')}</label>
<p class="help" id="hint-help">${t(l, 'hintHelp')}</p>
<input id="hint" name="hint" type="text" inputmode="tel" autocomplete="tel" maxlength="32" value="${value}"
 aria-describedby="hint-help${problem ? ' hint-error' : ''}"${problem ? raw(' aria-invalid="true" autofocus') : ''}>
${methods.length > 1
  ? html`<fieldset><legend>${t(l, 'methodLegend')}</legend>${methods.map(
      (m) => html`<div><input type="radio" id="method-${m}" name="method" value="${m}"${m === chosen ? raw(' checked') : ''}><label class="inline" for="method-${m}">${t(l, label[m])}</label></div>`,
    )}</fieldset>`
  : ''}
<button type="submit">${t(l, 'continue')}</button>
</form>
<form method="post" action="${path}/abort"><button type="submit" class="secondary">${t(l, 'cancel')}</button></form>`;
    return layout(l, t(l, 'title'), body, { path });
  }

  async function qrPage(request: FastifyRequest, found: InteractionDetails, attempt: PendingAttempt): Promise<string> {
    const l = request.locale;
    const path = `/signin/${found.uid}`;
    const current = await oidc.authenticator.deviceLinkQr?.(attempt.attemptId);
    const svg = current ? await QRCode.toString(current.qr, { type: 'svg', margin: 1 }) : '';
    const body: RawHtml = html`
<p>${t(l, 'qrHelp')}</p>
<div class="qr" id="qr" role="img" aria-label="${t(l, 'qrAlt')}" data-qr="${current?.qr ?? ''}" data-refresh="${path}/qr">${raw(svg)}</div>
<p class="waiting" role="status" data-poll="${path}/status" data-next="${path}/complete?lang=${l}">${t(l, 'waiting')}</p>
<form method="get" action="${path}/complete"><input type="hidden" name="lang" value="${l}"><button type="submit">${t(l, 'checkNow')}</button></form>
<form method="post" action="${path}/abort"><button type="submit" class="secondary">${t(l, 'cancel')}</button></form>`;
    return layout(l, t(l, 'qrTitle'), body, { path, script: true });
  }

  function smsPage(request: FastifyRequest, found: InteractionDetails, problem?: string): string {
    const l = request.locale;
    const path = `/signin/${found.uid}`;
    const body: RawHtml = html`
<p id="otp-help">${t(l, 'smsHelp')}</p>
${problem ? html`<p class="error" role="alert" id="otp-error">${problem}</p>` : ''}
<form method="post" action="${path}/otp?lang=${l}" novalidate>
<label for="otp">${t(l, 'smsLabel')}</label>
<input id="otp" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6" pattern="[0-9]{6}" required
 aria-describedby="otp-help${problem ? ' otp-error' : ''}"${problem ? raw(' aria-invalid="true" autofocus') : ''}>
<button type="submit">${t(l, 'smsConfirm')}</button>
</form>
<form method="post" action="${path}/abort"><button type="submit" class="secondary">${t(l, 'cancel')}</button></form>`;
    return layout(l, t(l, 'smsTitle'), body, { path });
  }

  async function confirmPage(request: FastifyRequest, found: InteractionDetails, rp: RelyingParty | undefined, attempt: PendingAttempt): Promise<string> {
    if (attempt.method === 'device_link') return qrPage(request, found, attempt);
    if (attempt.method === 'sms_otp') return smsPage(request, found);
    const l = request.locale;
    const path = `/signin/${found.uid}`;
    const qr = attempt.deviceLink ? await QRCode.toString(attempt.deviceLink, { type: 'svg', margin: 1 }) : '';
    // The other ways, for a citizen whose phone with the app is not at hand: the pending app
    // session is cancelled first, so switching never locks them out.
    const methods = methodsFor(found, rp);
    const switches: Array<{ method: Method; label: TextKey }> = [];
    if (methods.includes('device_link')) switches.push({ method: 'device_link', label: 'switchToQr' });
    if (methods.includes('sms_otp') && attempt.smsFallback && attempt.loginHint) switches.push({ method: 'sms_otp', label: 'smsFallback' });
    const body: RawHtml = html`
<p>${t(l, 'confirmHelp')}</p>
<p class="help">${t(l, 'verificationCode')}</p>
<p class="code" aria-live="polite">${attempt.verificationCode}</p>
${attempt.deviceLink
  ? html`<p><a class="button" href="${attempt.deviceLink}">${t(l, 'deviceLink')}</a></p><div class="qr" role="img" aria-label="${t(l, 'qrAlt')}">${raw(qr)}</div>`
  : ''}
<p class="waiting" role="status" data-poll="${path}/status" data-next="${path}/complete?lang=${l}">${t(l, 'waiting')}</p>
<form method="get" action="${path}/complete"><input type="hidden" name="lang" value="${l}"><button type="submit">${t(l, 'checkNow')}</button></form>
${switches.length > 0
  ? html`<section aria-labelledby="other-ways"><h2 id="other-ways">${t(l, 'otherWays')}</h2>${switches.map(
      (s) => html`<form method="post" action="${path}/switch?lang=${l}"><input type="hidden" name="method" value="${s.method}"><button type="submit" class="secondary">${t(l, s.label)}</button></form>`,
    )}</section>`
  : ''}
<form method="post" action="${path}/abort"><button type="submit" class="secondary">${t(l, 'cancel')}</button></form>`;
    return layout(l, t(l, 'confirmTitle'), body, { path, script: true });
  }

  /** What the consent would add: scopes not yet granted, and claims asked one by one beyond them. */
  function consentAsked(found: InteractionDetails, rp: RelyingParty | undefined): { scopes: string[]; claims: string[] } {
    const scopes = ((found.prompt.details.missingOIDCScope as string[] | undefined) ?? []).filter((s) => `claim_${s}` in TEXTS);
    const missingClaims = (found.prompt.details.missingOIDCClaims as string[] | undefined) ?? [];
    // Claims of a scope the request asks for (and the client may have) come with that scope.
    const requestedScopes = String(found.params.scope ?? '').split(' ').filter((s) => rp?.scopes.includes(s));
    return { scopes, claims: claimsBeyondScopes(missingClaims, [...requestedScopes, ...scopes]) };
  }

  function consentPage(request: FastifyRequest, found: InteractionDetails, rp: RelyingParty | undefined): string {
    const l = request.locale;
    const path = `/signin/${found.uid}`;
    const asked = consentAsked(found, rp);
    const body = html`
<ul class="claims">${asked.scopes.map((s) => html`<li>${t(l, `claim_${s}` as TextKey)}</li>`)}${asked.claims.map((c) => html`<li>${claimLabel(l, c)}</li>`)}</ul>
<p class="help">${t(l, 'consentHelp')}</p>
<form method="post" action="${path}/consent">
<button type="submit" name="decision" value="allow">${t(l, 'allow')}</button>
<button type="submit" name="decision" value="deny" class="secondary">${t(l, 'deny')}</button>
</form>`;
    return layout(l, t(l, 'consentTitle', { service: serviceName(rp, l) }), body, { path });
  }

  /** Starts a device authentication for this interaction, withdrawing the one it had. */
  async function startAttempt(request: FastifyRequest, reply: FastifyReply, found: InteractionDetails, rp: RelyingParty, method: Method, typed: string): Promise<FastifyReply> {
    // The QR names nobody: the citizen is whoever's app scans it.
    const hint = method === 'device_link' ? undefined : parseLoginHint(typed);
    if (method !== 'device_link' && !hint) return page(reply, 400, entryPage(request, found, rp, 'hintInvalid', typed, method));
    const acceptable = acceptableFor(found, rp);
    await cancelPending(found);
    const loginHint = !hint ? '' : 'phone' in hint ? hint.phone : hint.pinfl;
    const started = await oidc.authenticator.start({
      loginHint,
      acrValues: acceptable,
      client: { clientId: rp.clientId, name: rp.name },
      method,
      locale: request.locale,
      // The SMS names the site it is for (WebOTP `@host #code`), so a look-alike page cannot reuse it.
      ...(method === 'sms_otp' ? { origin: new URL(oidc.context.config.publicUrl).host } : {}),
    });
    if (started.status === 'refused') {
      found.result = {};
      await save(found);
      const problem: TextKey = (
        { unknown_citizen: 'unknownCitizen', no_device: 'unknownCitizen', rate_limited: 'tooMany', already_pending: 'alreadyPending', unavailable: 'unavailable' } as const
      )[started.reason];
      const status = started.reason === 'unavailable' ? 503 : started.reason === 'rate_limited' || started.reason === 'already_pending' ? 429 : 400;
      return page(reply, status, entryPage(request, found, rp, problem, typed, method));
    }
    const attempt: PendingAttempt = {
      attemptId: started.attemptId,
      method,
      verificationCode: started.verificationCode,
      deviceLink: started.deviceLink,
      smsFallback: started.smsFallback,
      acceptable,
      ...(loginHint ? { loginHint } : {}),
    };
    found.result = { tasdiq: attempt };
    await save(found);
    return reply.redirect(`/signin/${found.uid}?lang=${request.locale}`, 303);
  }

  app.get<{ Params: { uid: string } }>('/signin/:uid', { schema: { params: UID } }, async (request, reply) => {
    const found = await details(request, reply);
    const rp = await client(found);
    if (found.prompt.name === 'consent') return page(reply, 200, consentPage(request, found, rp));
    try {
      acceptableAcr(found.params.acr_values, rp?.acrValues ?? [], found.params.claims);
    } catch (error) {
      const description = error instanceof errors.OIDCProviderError ? error.error_description : undefined;
      return finish(request, reply, { error: 'invalid_request', error_description: description ?? 'the request asks for assurance levels this client is not registered for' });
    }
    const attempt = pending(found);
    if (attempt) return page(reply, 200, await confirmPage(request, found, rp, attempt));
    return page(reply, 200, entryPage(request, found, rp));
  });

  app.post<{ Params: { uid: string }; Body: { hint?: string; method?: string } }>(
    '/signin/:uid/start',
    {
      schema: {
        params: UID,
        body: { type: 'object', properties: { hint: { type: 'string', maxLength: 64 }, method: { type: 'string', maxLength: 16 } }, additionalProperties: false },
      },
      config: strict,
    },
    async (request, reply) => {
      const found = await details(request, reply);
      const rp = await client(found);
      const typed = request.body?.hint ?? '';
      const asked = request.body?.method ?? 'app';
      const method = methodsFor(found, rp).find((m) => m === asked);
      if (!method || !rp) return page(reply, 400, entryPage(request, found, rp, 'hintInvalid', typed));
      return startAttempt(request, reply, found, rp, method, typed);
    },
  );

  // From the app's confirmation page to another way (an SMS code, the QR), for the same citizen.
  app.post<{ Params: { uid: string }; Body: { method?: string } }>(
    '/signin/:uid/switch',
    {
      schema: { params: UID, body: { type: 'object', properties: { method: { type: 'string', enum: ['sms_otp', 'device_link'] } }, required: ['method'], additionalProperties: false } },
      config: strict,
    },
    async (request, reply) => {
      const found = await details(request, reply);
      const rp = await client(found);
      const attempt = pending(found);
      const method = methodsFor(found, rp).find((m) => m === request.body.method);
      if (!rp || !attempt || !method || (method === 'sms_otp' && !attempt.loginHint)) {
        return reply.redirect(`/signin/${found.uid}?lang=${request.locale}`, 303);
      }
      return startAttempt(request, reply, found, rp, method, attempt.loginHint ?? '');
    },
  );

  app.get<{ Params: { uid: string } }>('/signin/:uid/status', { schema: { params: UID }, config: perSignin(90) }, async (request, reply) => {
    const found = await details(request, reply);
    const attempt = pending(found);
    if (!attempt) return reply.header('cache-control', 'no-store').send({ status: 'none' });
    const result = await oidc.authenticator.poll(attempt.attemptId);
    return reply.header('cache-control', 'no-store').send({ status: result.status });
  });

  app.get<{ Params: { uid: string } }>('/signin/:uid/complete', { schema: { params: UID }, config: strict }, async (request, reply) => {
    const found = await details(request, reply);
    const attempt = pending(found);
    const rp = await client(found);
    if (!attempt) return reply.redirect(`/signin/${found.uid}?lang=${request.locale}`, 303);
    const result = await oidc.authenticator.poll(attempt.attemptId);
    if (result.status === 'pending') return page(reply, 200, await confirmPage(request, found, rp, attempt));
    // Confirmed below the level asked: starting again would prove no more, so the service is told.
    if (result.status === 'insufficient' || (result.status === 'approved' && !meetsAcr(result.acr, attempt.acceptable))) {
      return finish(request, reply, {
        error: 'unmet_authentication_requirements',
        error_description: 'the citizen authenticated at a lower assurance level than requested',
      });
    }
    if (result.status !== 'approved') {
      found.result = {};
      await save(found);
      return page(reply, 200, entryPage(request, found, rp, 'denied'));
    }
    return finish(request, reply, {
      login: { accountId: result.citizenId, acr: result.acr, amr: [...result.amr], ts: Math.floor(result.authTime / 1000) },
    });
  });

  // The QR changes every second; the page's script asks for the current one.
  app.get<{ Params: { uid: string } }>('/signin/:uid/qr', { schema: { params: UID }, config: perSignin(300) }, async (request, reply) => {
    const found = await details(request, reply);
    const attempt = pending(found);
    const current = attempt?.method === 'device_link' ? await oidc.authenticator.deviceLinkQr?.(attempt.attemptId) : null;
    if (!current) return reply.code(404).header('cache-control', 'no-store').send({ status: 'none' });
    const svg = await QRCode.toString(current.qr, { type: 'svg', margin: 1 });
    return reply.header('cache-control', 'no-store').send({ qr: current.qr, svg });
  });

  app.post<{ Params: { uid: string }; Body: { code?: string } }>(
    '/signin/:uid/otp',
    {
      schema: { params: UID, body: { type: 'object', properties: { code: { type: 'string', maxLength: 16 } }, additionalProperties: false } },
      config: strict,
    },
    async (request, reply) => {
      const found = await details(request, reply);
      const attempt = pending(found);
      if (attempt?.method !== 'sms_otp' || !oidc.authenticator.verifySmsCode) return reply.redirect(`/signin/${found.uid}?lang=${request.locale}`, 303);
      const l = request.locale;
      const checked = await oidc.authenticator.verifySmsCode(attempt.attemptId, (request.body?.code ?? '').trim());
      if (checked.status === 'accepted') return reply.redirect(`/signin/${found.uid}/complete?lang=${l}`, 303);
      if (checked.status === 'malformed') return page(reply, 400, smsPage(request, found, t(l, 'smsMalformed')));
      if (checked.status === 'wrong') return page(reply, 400, smsPage(request, found, t(l, 'smsWrong', { left: String(checked.attemptsLeft) })));
      // Out of attempts, expired or failed: this attempt is over; the citizen starts again.
      found.result = {};
      await save(found);
      return page(reply, 400, entryPage(request, found, await client(found), 'denied', '', 'sms_otp'));
    },
  );

  app.post<{ Params: { uid: string }; Body: { decision?: string } }>(
    '/signin/:uid/consent',
    {
      schema: {
        params: UID,
        body: { type: 'object', properties: { decision: { type: 'string', enum: ['allow', 'deny'] } }, required: ['decision'], additionalProperties: false },
      },
      config: strict,
    },
    async (request, reply) => {
      const found = await details(request, reply);
      const accountId = found.session?.accountId;
      if (found.prompt.name !== 'consent' || !accountId) throw new SigninGone(undefined);
      if (request.body.decision === 'deny') return finish(request, reply, { error: 'access_denied', error_description: 'the citizen declined' });
      const clientId = String(found.params.client_id);
      const { Grant } = oidc.provider;
      const grant = (found.grantId ? await Grant.find(found.grantId) : undefined) ?? (await grantFor(oidc.provider, oidc.storage, accountId, clientId));
      const missingScopes = (found.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
      const missingClaims = (found.prompt.details.missingOIDCClaims as string[] | undefined) ?? [];
      const asked = consentAsked(found, await client(found));
      // What the page listed is what is recorded (and audited): the scopes, and the claims asked
      // one by one beyond them. The grant also names each claim its scopes cover.
      const consent = await oidc.consents.grant(accountId, clientId, { scopes: missingScopes, claims: asked.claims }, oidc.context.now(), { requestId: request.id });
      if (missingScopes.length > 0) grant.addOIDCScope(missingScopes.join(' '));
      const claims = [...new Set([...missingClaims, ...consent.claims, ...claimsOfScopes(consent.scopes)])];
      if (claims.length > 0) grant.addOIDCClaims(claims);
      const grantId = await saveGrant(grant);
      return finish(request, reply, { consent: { grantId } });
    },
  );

  app.post<{ Params: { uid: string } }>('/signin/:uid/abort', { schema: { params: UID }, config: strict }, async (request, reply) => {
    const found = await details(request, reply);
    // The phone's pending request is withdrawn too: the citizen can start again at once.
    await cancelPending(found);
    return finish(request, reply, { error: 'access_denied', error_description: 'the citizen cancelled the sign-in' });
  });
}
