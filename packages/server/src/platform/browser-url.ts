/**
 * Browsers refuse an IP address as a WebAuthn RP ID, so pages that use passkeys (the operator
 * console, the citizen app) of a service published on a loopback address (the default,
 * http://127.0.0.1:3000) are opened at `localhost` instead.
 */
export function browserBaseUrl(publicUrl: string): string {
  const url = new URL(publicUrl);
  if (url.hostname === '127.0.0.1' || url.hostname === '[::1]') url.hostname = 'localhost';
  return url.toString().replace(/\/+$/, '');
}
