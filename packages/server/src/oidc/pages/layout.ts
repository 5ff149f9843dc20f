import { LOCALES, type Locale } from '../../platform/i18n.ts';
import { html, type RawHtml } from '../../platform/html.ts';
import { t } from './texts.ts';

const LANGUAGE_NAMES: Record<Locale, string> = { 'uz-Latn': "O'zbekcha", 'uz-Cyrl': 'Ўзбекча', ru: 'Русский', en: 'English' };

/** The page frame: one small stylesheet, no framework, readable without JavaScript. */
export function layout(locale: Locale, title: string, body: RawHtml, options: { path?: string; script?: boolean } = {}): string {
  const path = options.path ?? '';
  const page = html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/signin/assets/signin.css">
${options.script ? html`<script src="/signin/assets/signin.js" defer></script>` : ''}
</head>
<body>
<main id="main">
<h1>${title}</h1>
${body}
</main>
${path
  ? html`<nav aria-label="${t(locale, 'language')}"><ul class="langs">${LOCALES.map((l) =>
      l === locale
        ? html`<li><span aria-current="true" lang="${l}">${LANGUAGE_NAMES[l]}</span></li>`
        : html`<li><a href="${path}?lang=${l}" lang="${l}" hreflang="${l}">${LANGUAGE_NAMES[l]}</a></li>`,
    )}</ul></nav>`
  : ''}
</body>
</html>`;
  return page.__html;
}

export const SIGNIN_CSS = `*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#f6f7f9}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem;background:#fff;min-height:70vh}
h1{font-size:1.5rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
label.inline{display:inline;font-weight:400;margin:0 0 0 .4rem}
fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600}fieldset div{margin:.4rem 0}
input[type=text],input[type=tel]{width:100%;font-size:1.25rem;padding:.6rem;border:2px solid #4a4f57;border-radius:.4rem}
button,.button{display:inline-block;font-size:1.0625rem;padding:.7rem 1.2rem;margin:.75rem .5rem 0 0;border-radius:.4rem;border:2px solid #0b4f9c;background:#0b4f9c;color:#fff;text-decoration:none;cursor:pointer}
button.secondary{background:#fff;color:#0b4f9c}
:focus-visible{outline:3px solid #f5a300;outline-offset:2px}
.help{color:#3d434b;font-size:.95rem;margin:.25rem 0}
.error{color:#a4000f;font-weight:600}
.code{font-size:2.5rem;font-weight:700;letter-spacing:.3rem;text-align:center;margin:1rem 0;font-variant-numeric:tabular-nums}
.qr svg{width:12rem;height:12rem;display:block;margin:1rem auto}
ul.claims{padding-left:1.25rem}
ul.langs{list-style:none;display:flex;gap:1rem;justify-content:center;padding:1rem}
a{color:#0b4f9c}
@media (prefers-reduced-motion:no-preference){.waiting::after{content:"";display:inline-block;width:.8em;height:.8em;margin-left:.4em;border:2px solid #0b4f9c;border-right-color:transparent;border-radius:50%;animation:spin 1s linear infinite}}
@keyframes spin{to{transform:rotate(360deg)}}
`;

/** Polls the status endpoint and moves on when the phone has answered; the button works without it. */
export const SIGNIN_JS = `(function(){
var el=document.querySelector('[data-poll]');if(!el)return;
var url=el.getAttribute('data-poll'),next=el.getAttribute('data-next');
function tick(){fetch(url,{headers:{accept:'application/json'},credentials:'same-origin'}).then(function(r){return r.json()}).then(function(s){
if(s.status==='pending'){setTimeout(tick,2000);return}
window.location.assign(next)}).catch(function(){setTimeout(tick,4000)})}
setTimeout(tick,2000);
var qr=document.querySelector('[data-refresh]');if(!qr)return;
function refresh(){fetch(qr.getAttribute('data-refresh'),{credentials:'same-origin'}).then(function(r){return r.ok?r.json():null}).then(function(q){
if(!q)return;qr.innerHTML=q.svg;qr.setAttribute('data-qr',q.qr);setTimeout(refresh,1000)}).catch(function(){setTimeout(refresh,3000)})}
setTimeout(refresh,1000)})();
`;
