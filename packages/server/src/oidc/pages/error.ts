import { negotiateLocale, type Locale } from '../../platform/i18n.ts';
import { html, raw } from '../../platform/html.ts';
import { layout } from './layout.ts';
import { t } from './texts.ts';

/**
 * oidc-provider's error page (a request no relying party should have sent): what happened in
 * the citizen's language, then the protocol's code and description for whoever debugs it.
 */
export function renderErrorPage(out: Record<string, string>, acceptLanguage?: string): string {
  const locale = negotiateLocale(acceptLanguage);
  const code = out.error ?? 'server_error';
  const explanation = code === 'server_error' || code === 'temporarily_unavailable' ? t(locale, 'errorServer') : t(locale, 'errorRequest');
  return layout(
    locale,
    t(locale, 'errorTitle'),
    html`<p class="error" role="alert">${explanation}</p>
<details><summary>${t(locale, 'technicalDetails')}</summary><p><code>${code}</code></p><p lang="en">${out.error_description ?? ''}</p></details>`,
  );
}

/** A sign-in that is over or unknown: say so in the citizen's language; start again at the service when it is known. */
export function renderSigninGonePage(locale: Locale, startAgain: string | undefined): string {
  return layout(
    locale,
    t(locale, 'signinGoneTitle'),
    html`<p role="alert">${t(locale, 'signinGoneText')}</p>${startAgain ? html`<p><a class="button" href="${startAgain}">${t(locale, 'startAgain')}</a></p>` : ''}`,
  );
}

/** The RP-initiated logout confirmation; `form` is oidc-provider's hidden form (xsrf token). */
export function renderLogoutPage(form: string, acceptLanguage?: string): string {
  const locale = negotiateLocale(acceptLanguage);
  return layout(
    locale,
    t(locale, 'logoutTitle'),
    html`${raw(form)}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">${t(locale, 'logoutYes')}</button>
<button type="submit" form="op.logoutForm" class="secondary">${t(locale, 'logoutNo')}</button>`,
  );
}

export function renderLoggedOutPage(acceptLanguage?: string): string {
  const locale = negotiateLocale(acceptLanguage);
  return layout(locale, t(locale, 'loggedOut'), html``);
}
