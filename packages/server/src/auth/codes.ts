import { createHash, createHmac, hkdfSync, randomInt, timingSafeEqual } from 'node:crypto';

export function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * The verification code both screens show (Smart-ID's formula): the last two bytes of
 * SHA-256 of the challenge hash, as a big-endian integer, mod 10000, four digits.
 */
export function verificationCode(challengeHash: Uint8Array): string {
  const digest = sha256(challengeHash);
  return String(digest.readUInt16BE(digest.length - 2) % 10000).padStart(4, '0');
}

/**
 * The three codes the app offers: the right one and two decoys, in an order derived from the
 * challenge so that asking again shows the same choices (no learning by repetition).
 */
export function verificationChoices(challengeHash: Uint8Array, code: string): string[] {
  const seed = sha256(Buffer.concat([Buffer.from('choices'), challengeHash]));
  const choices = [code];
  for (let i = 0; choices.length < 3; i++) {
    const candidate = String(seed.readUInt16BE((i * 2) % 30) * (i + 1) % 10000).padStart(4, '0');
    if (!choices.includes(candidate)) choices.push(candidate);
  }
  const position = seed[31]! % 3;
  [choices[0], choices[position]] = [choices[position]!, choices[0]!];
  return choices;
}

/** BankID-style animated QR: a fresh code every second, derived from the session's secret. */
export function qrAuthCode(secret: string, sessionId: string, elapsedSeconds: number): string {
  return createHmac('sha256', Buffer.from(secret, 'base64url')).update(`${sessionId}${elapsedSeconds}`).digest('hex');
}

export function qrPayload(sessionId: string, elapsedSeconds: number, code: string): string {
  return `tasdiq.${sessionId}.${elapsedSeconds}.${code}`;
}

export function safeEqualHex(a: string, b: string): boolean {
  const x = sha256(a);
  const y = sha256(b);
  return timingSafeEqual(x, y);
}

export function newOtp(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Peppered so a copy of the table alone does not give the million-guess shortcut. */
export function otpPepper(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'tasdiq sms otp pepper v1', 32));
}

export function hashOtp(pepper: Buffer, sessionId: string, code: string): string {
  return createHmac('sha256', pepper).update(`${sessionId}:${code}`).digest('hex');
}
