/**
 * Browsers refuse an IP address as a WebAuthn RP ID, so a service published on a loopback
 * address (the default, http://127.0.0.1:3000) runs its console at `localhost` instead.
 */
export function consoleBaseUrl(publicUrl: string): string {
  const url = new URL(publicUrl);
  if (url.hostname === '127.0.0.1' || url.hostname === '[::1]') url.hostname = 'localhost';
  return url.toString().replace(/\/+$/, '');
}
