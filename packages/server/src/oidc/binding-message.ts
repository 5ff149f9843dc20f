/**
 * CIBA binding_message check. oidc-provider's default pattern admits only a few ASCII
 * characters, which rejects every Uzbek Cyrillic or Russian message a notary would write.
 * Letters and digits of every script, spaces and common punctuation; bounded length; no
 * control or formatting characters (which could hide or reorder text on the phone).
 */
export const BINDING_MESSAGE_MAX = 64;
const ALLOWED = /^[\p{L}\p{M}\p{N} .,:;!?'"()«»„“”‘’ʻʼ\-–—#№/+&%]+$/u;

export function isValidBindingMessage(message: string): boolean {
  if (message.length === 0 || [...message].length > BINDING_MESSAGE_MAX) return false;
  if (message.trim() !== message || /\s{2,}/.test(message)) return false;
  return ALLOWED.test(message.normalize('NFC'));
}
