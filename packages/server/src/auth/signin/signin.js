/* global document, location, fetch, FormData, setInterval, clearInterval */
// The demo sign-in page of a relying service. It talks only to the session API; a real
// service does the same from its back end (or through OpenID Connect).
const $ = (id) => document.getElementById(id);
const SERVICE = { serviceId: 'tasdiq-demo', serviceName: 'Tasdiq demo' };
// The page's texts in its language, rendered by the server (see texts.ts).
const TEXTS = JSON.parse(document.querySelector('main').dataset.texts);
const say = (key, values = {}) => TEXTS[key].replace(/\{(\w+)\}/g, (_m, name) => values[name] ?? '');
let session = null;
let qrTimer = null;

function show(section) {
  for (const id of ['app', 'link', 'sms']) $(id).hidden = id !== section;
}

function outcome(text) {
  $('outcome').textContent = text;
}

async function call(path, init = {}) {
  // Problems come back with their title in the page's language, which is what the page shows.
  const headers = { 'content-type': 'application/json', 'accept-language': document.documentElement.lang, ...(session ? { authorization: `Bearer ${session.sessionToken}` } : {}) };
  const response = await fetch(path, { ...init, headers });
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.title), { code: body.code });
  return body;
}

/** A problem's translated title; never its machine code or the browser's English. */
function problemText(error) {
  return error.code && error.message ? error.message : say('network');
}

function finished(result) {
  clearInterval(qrTimer);
  show(null);
  outcome(result.result === 'OK' ? say('signedIn', { level: result.assurance }) : say('ended', { result: TEXTS[`result_${result.result}`] ?? result.result }));
}

async function waitForResult() {
  while (session) {
    const result = await call(`/api/v1/auth/sessions/${session.sessionId}?timeoutMs=25000`);
    if (result.state === 'complete') return finished(result);
  }
}

async function drawQr() {
  const { svg, qr } = await call(`/api/v1/auth/sessions/${session.sessionId}/qr`);
  const box = $('qr');
  box.innerHTML = svg;
  box.dataset.qr = qr;
}

$('start').addEventListener('submit', async (event) => {
  event.preventDefault();
  const hint = $('hint').value.trim();
  const mode = new FormData($('start')).get('mode');
  const body = { ...SERVICE, mode };
  if (hint) Object.assign(body, /^\d{14}$/.test(hint) ? { pinfl: hint } : { phone: hint });
  if (mode === 'sms_otp') body.origin = location.host;
  outcome('');
  try {
    session = null;
    session = await call('/api/v1/auth/sessions', { method: 'POST', body: JSON.stringify(body) });
    if (session.state === 'complete') return finished(session);
    if (mode === 'app') {
      $('vc').textContent = session.verificationCode;
      show('app');
    } else if (mode === 'device_link') {
      show('link');
      await drawQr();
      qrTimer = setInterval(() => drawQr().catch(() => clearInterval(qrTimer)), 1000);
    } else {
      show('sms');
      $('otp-code').focus();
    }
    if (mode !== 'sms_otp') await waitForResult();
  } catch (error) {
    outcome(problemText(error));
  }
});

$('otp').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    finished(await call(`/api/v1/auth/sessions/${session.sessionId}/otp`, { method: 'POST', body: JSON.stringify({ code: $('otp-code').value.trim() }) }));
  } catch (error) {
    outcome(problemText(error));
  }
});
