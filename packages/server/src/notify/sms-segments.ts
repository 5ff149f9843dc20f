/**
 * SMS length rules (3GPP TS 23.038 / 23.040). A text that fits the GSM 03.38 default
 * alphabet travels as 7-bit septets: 160 per single message, 153 per part of a concatenated
 * one (the 6-byte UDH with an 8-bit reference takes 7 septets). Anything else goes as UCS-2:
 * 70 UTF-16 units, 67 per part. Extension-table characters cost an escape septet, so they
 * count 2. With a 16-bit concatenation reference (IEI 0x08, a 7-byte UDH, as Tasdiq's SMPP
 * client sends) a part holds one unit less: 152 septets or 66 UTF-16 units.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

export type SmsEncoding = 'gsm7' | 'ucs2';

export interface SmsSegmentInfo {
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes. */
  readonly units: number;
  readonly segments: number;
  /** Units one segment holds at this length (single or concatenated). */
  readonly perSegment: number;
}

/** Septets a character takes in GSM-7, or undefined when it is not in the alphabet. */
function gsmSeptets(char: string): 1 | 2 | undefined {
  if (BASIC.has(char)) return 1;
  if (EXTENSION.has(char)) return 2;
  return undefined;
}

export function isGsm7(text: string): boolean {
  for (const char of text) if (gsmSeptets(char) === undefined) return false;
  return true;
}

function cost(char: string, encoding: SmsEncoding): number {
  return encoding === 'gsm7' ? gsmSeptets(char)! : char.length;
}

/** Greedy split; the segment count comes from it so that count and parts always agree. */
function partsOf(text: string, encoding: SmsEncoding, perSegment: number): string[] {
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const char of text) {
    const c = cost(char, encoding);
    if (used + c > perSegment) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += char;
    used += c;
  }
  if (current !== '' || parts.length === 0) parts.push(current);
  return parts;
}

/** Which concatenation header long texts carry: an 8-bit (IEI 0x00) or a 16-bit (IEI 0x08) reference. */
export type ConcatReference = 8 | 16;

export function smsSegments(text: string, reference: ConcatReference = 8): SmsSegmentInfo {
  const encoding: SmsEncoding = isGsm7(text) ? 'gsm7' : 'ucs2';
  let units = 0;
  for (const char of text) units += cost(char, encoding);
  const single = encoding === 'gsm7' ? 160 : 70;
  if (units <= single) return { encoding, units, segments: 1, perSegment: single };
  const perSegment = (encoding === 'gsm7' ? 153 : 67) - (reference === 16 ? 1 : 0);
  return { encoding, units, segments: partsOf(text, encoding, perSegment).length, perSegment };
}

/**
 * Splits a text into the parts of a concatenated SMS. Parts never cut an escape sequence
 * (GSM-7) or a surrogate pair (UCS-2): a phone would show garbage at the seam.
 */
export function splitSms(text: string, reference: ConcatReference = 8): { encoding: SmsEncoding; parts: string[] } {
  const info = smsSegments(text, reference);
  if (info.segments === 1) return { encoding: info.encoding, parts: [text] };
  return { encoding: info.encoding, parts: partsOf(text, info.encoding, info.perSegment) };
}
