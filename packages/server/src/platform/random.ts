import { randomFillSync } from 'node:crypto';

/**
 * Cryptographically random bytes for ids and tokens, drawn from a buffer that one
 * `randomFillSync` call refills, as Node's own `randomUUID` does: a sign-in takes five such
 * values, and a call into OpenSSL for each was about 2% of its CPU (V8 profile). Each byte is
 * handed out once and wiped from the buffer as it goes, so no token lingers there.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

export function randomBytesPooled(size: number): Buffer {
  if (!Number.isInteger(size) || size < 0 || size > 256) throw new RangeError('randomBytesPooled: size must be an integer from 0 to 256');
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  pool.fill(0, offset, offset + size);
  offset += size;
  return bytes;
}
