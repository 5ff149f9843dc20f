/**
 * What the app's QR scanner accepts. No DOM here, so the rules are tested on their own.
 */

/** URL.canParse is too new for some phones still in use (iOS 16). */
function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** The code as typed ("7KQM 2XPA ...") or as the operator's QR carries it (tasdiq://activate?code=...). */
export function activationCodeOf(input: string): string {
  const text = input.trim();
  const fromUri = text.startsWith('tasdiq://') ? (parseUrl(text)?.searchParams.get('code') ?? null) : null;
  return (fromUri ?? text).replaceAll(/[\s-]/g, '').toUpperCase();
}

/** The rotating device-link QR of a sign-in page: tasdiq.<sessionId>.<elapsedSeconds>.<hex HMAC>. */
const LINK_QR = /^tasdiq\.[A-Za-z0-9_-]{1,100}\.\d{1,6}\.[0-9a-f]{64}$/;

export function isLinkQr(text: string): boolean {
  return LINK_QR.test(text);
}

export type ActivationQr = { readonly code: string } | { readonly problem: 'notActivationQr' } | { readonly problem: 'otherServer'; readonly server: string };

/**
 * The operator's QR: tasdiq://activate?code=...&server=.... The app talks to its own origin only,
 * so a code issued by another server could never activate here: say so rather than fail later.
 */
export function readActivationQr(text: string, origin: string): ActivationQr {
  const params = text.startsWith('tasdiq://activate?') ? parseUrl(text)?.searchParams : undefined;
  const code = params?.get('code');
  if (!params || !code) return { problem: 'notActivationQr' };
  const server = params.get('server');
  if (server) {
    const serverUrl = parseUrl(server);
    if (!serverUrl) return { problem: 'notActivationQr' };
    if (serverUrl.origin !== origin) return { problem: 'otherServer', server };
  }
  return { code: activationCodeOf(code) };
}
