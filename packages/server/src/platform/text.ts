/**
 * Free text that a person will read (a service name on the phone, a reason, a document name, a
 * device label): letters and marks of every script, but no control characters (C0, DEL, C1),
 * no NUL (PostgreSQL refuses it in text), and no bidirectional overrides or isolates, which
 * could make `invoice\u202Efdp.exe` read as `invoiceexe.pdf` on the citizen's screen.
 * Used as a JSON-schema `pattern`, so bad text is a 400 `validation_failed` before any handler.
 */
export const PRINTABLE_TEXT_PATTERN = '^[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$';

const PRINTABLE = new RegExp(PRINTABLE_TEXT_PATTERN, 'u');

/** A JSON schema for human-readable text of 1..maxLength characters. */
export function printableText(maxLength: number, minLength = 1) {
  return { type: 'string', minLength, maxLength, pattern: PRINTABLE_TEXT_PATTERN } as const;
}

/** The same rule for values that do not pass through a route schema (configuration, CLI input). */
export function isPrintableText(value: string): boolean {
  return PRINTABLE.test(value);
}
