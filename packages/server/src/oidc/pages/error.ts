import { negotiateLocale } from '../../platform/i18n.ts';
import { html, raw } from './html.ts';
import { layout } from './layout.ts';
import { t } from './texts.ts';

/** oidc-provider's error page (a request no relying party should have sent): code and description only. */
export function renderErrorPage(out: Record<string, string>, acceptLanguage?: string): string {
  const locale = negotiateLocale(acceptLanguage);
  return layout(locale, t(locale, 'errorTitle'), html`<p class="error" role="alert"><code>${out.error ?? 'server_error'}</code></p><p>${out.error_description ?? ''}</p>`);
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
