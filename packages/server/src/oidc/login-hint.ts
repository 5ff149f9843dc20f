/** A CIBA or sign-in login hint: an Uzbek mobile number or a 14-digit PINFL. */
export type LoginHint = { readonly phone: string } | { readonly pinfl: string };

const PINFL = /^\d{14}$/;
const UZ_MOBILE = /^\+998\d{9}$/;

/** Normalises what a person typed ("+998 90 123-45-67", "901234567", a PINFL); undefined when neither. */
export function parseLoginHint(raw: string): LoginHint | undefined {
  const compact = raw.replace(/[\s\-().]/g, '');
  if (PINFL.test(compact)) return { pinfl: compact };
  let phone = compact;
  if (/^\d{9}$/.test(phone)) phone = `+998${phone}`;
  else if (/^998\d{9}$/.test(phone)) phone = `+${phone}`;
  return UZ_MOBILE.test(phone) ? { phone } : undefined;
}
