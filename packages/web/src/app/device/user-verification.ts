import { fromBase64Url, toBase64Url } from '@tasdiq/client';

/** Why the PIN/biometric step did not happen; each has a message in every language. */
export type UserVerificationProblem =
  /** No platform authenticator with user verification: no screen lock, or a browser without passkeys. */
  | 'no_screen_lock'
  /** The citizen cancelled the prompt, or it timed out. */
  | 'cancelled'
  /** The browser refuses passkeys here (insecure page, policy, unsupported algorithm). */
  | 'unsupported'
  /** The authenticator answered without checking the PIN or biometrics. */
  | 'not_verified'
  | 'failed';

export class UserVerificationError extends Error {
  readonly problem: UserVerificationProblem;
  constructor(problem: UserVerificationProblem, cause?: unknown) {
    super(`user verification: ${problem}`, cause === undefined ? undefined : { cause });
    this.name = 'UserVerificationError';
    this.problem = problem;
  }
}

function problemOf(error: unknown): UserVerificationProblem {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'AbortError') return 'cancelled';
  if (name === 'NotSupportedError' || name === 'SecurityError') return 'unsupported';
  if (name === 'InvalidStateError') return 'cancelled';
  return 'failed';
}

/** Whether the phone can check its owner (a screen lock with PIN, pattern, fingerprint or face). */
export async function hasScreenLock(): Promise<boolean> {
  if (typeof PublicKeyCredential === 'undefined' || typeof PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable !== 'function') return false;
  try {
    return await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable();
  } catch {
    return false;
  }
}

/**
 * PIN or biometrics through WebAuthn with user verification: a passkey made before activation,
 * asked for before each confirmation. It gates the app's use of its keys on this phone; the
 * server trusts the device key's signature, as with a native app's keystore-bound key. Made
 * first, so a phone that cannot check its owner never spends an activation code.
 */
export async function createUserVerification(): Promise<string> {
  if (!(await hasScreenLock())) throw new UserVerificationError('no_screen_lock');
  let credential: PublicKeyCredential | null;
  try {
    credential = (await navigator.credentials.create({
      publicKey: {
        rp: { name: 'Tasdiq', id: location.hostname },
        user: { id: crypto.getRandomValues(new Uint8Array(16)), name: 'Tasdiq', displayName: 'Tasdiq Mobile-ID' },
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        authenticatorSelection: { authenticatorAttachment: 'platform', userVerification: 'required', residentKey: 'discouraged' },
        timeout: 60_000,
      },
    })) as PublicKeyCredential | null;
  } catch (error) {
    throw new UserVerificationError(problemOf(error), error);
  }
  if (!credential) throw new UserVerificationError('cancelled');
  return toBase64Url(new Uint8Array(credential.rawId));
}

export async function verifyUser(credentialId: string): Promise<void> {
  let assertion: PublicKeyCredential | null;
  try {
    assertion = (await navigator.credentials.get({
      publicKey: {
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        allowCredentials: [{ type: 'public-key', id: fromBase64Url(credentialId) as Uint8Array<ArrayBuffer> }],
        userVerification: 'required',
        timeout: 60_000,
      },
    })) as PublicKeyCredential | null;
  } catch (error) {
    throw new UserVerificationError(problemOf(error), error);
  }
  const flags = assertion ? new Uint8Array((assertion.response as AuthenticatorAssertionResponse).authenticatorData)[32]! : 0;
  // Bit 2 (UV): the authenticator checked the PIN or biometrics, not just presence.
  if ((flags & 0x04) === 0) throw new UserVerificationError('not_verified');
}
