import { fromBase64Url, toBase64Url, userVerificationChallenge } from '@tasdiq/client';

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

const KNOWN_TRANSPORTS = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];

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
 * PIN or biometrics through WebAuthn with user verification: a passkey made for the activation
 * (its challenge binds it to the new device keys) and asked for before each confirmation, over
 * the request being confirmed. The server registers the passkey and checks every assertion, so
 * the device key alone cannot confirm. Made before the activation request is sent, so a phone
 * that cannot check its owner never spends an activation code.
 */
export async function createUserVerification(challenge: Uint8Array): Promise<{ credentialId: string; registration: object }> {
  if (!(await hasScreenLock())) throw new UserVerificationError('no_screen_lock');
  let credential: PublicKeyCredential | null;
  try {
    credential = (await navigator.credentials.create({
      publicKey: {
        rp: { name: 'Tasdiq', id: location.hostname },
        user: { id: crypto.getRandomValues(new Uint8Array(16)), name: 'Tasdiq', displayName: 'Tasdiq Mobile-ID' },
        challenge: challenge as Uint8Array<ArrayBuffer>,
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        authenticatorSelection: { authenticatorAttachment: 'platform', userVerification: 'required', residentKey: 'discouraged' },
        timeout: 60_000,
      },
    })) as PublicKeyCredential | null;
  } catch (error) {
    throw new UserVerificationError(problemOf(error), error);
  }
  if (!credential) throw new UserVerificationError('cancelled');
  const response = credential.response as AuthenticatorAttestationResponse;
  const credentialId = toBase64Url(new Uint8Array(credential.rawId));
  return {
    credentialId,
    registration: {
      id: credentialId,
      rawId: credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: toBase64Url(new Uint8Array(response.clientDataJSON)),
        attestationObject: toBase64Url(new Uint8Array(response.attestationObject)),
        // Only the transports the server knows; a future one would make the activation invalid.
        transports: (typeof response.getTransports === 'function' ? response.getTransports() : []).filter((t) => KNOWN_TRANSPORTS.includes(t)),
      },
      clientExtensionResults: {},
      ...(credential.authenticatorAttachment ? { authenticatorAttachment: credential.authenticatorAttachment } : {}),
    },
  };
}

/** The citizen's PIN or biometrics over one request: the assertion its confirmation carries. */
export async function verifyUser(credentialId: string, signingInput: string): Promise<object> {
  let assertion: PublicKeyCredential | null;
  try {
    assertion = (await navigator.credentials.get({
      publicKey: {
        challenge: (await userVerificationChallenge(signingInput)) as Uint8Array<ArrayBuffer>,
        allowCredentials: [{ type: 'public-key', id: fromBase64Url(credentialId) as Uint8Array<ArrayBuffer> }],
        userVerification: 'required',
        timeout: 60_000,
      },
    })) as PublicKeyCredential | null;
  } catch (error) {
    throw new UserVerificationError(problemOf(error), error);
  }
  if (!assertion) throw new UserVerificationError('cancelled');
  const response = assertion.response as AuthenticatorAssertionResponse;
  // Bit 2 (UV): the authenticator checked the PIN or biometrics, not just presence. The server
  // checks it too; asking here tells the citizen at once.
  if ((new Uint8Array(response.authenticatorData)[32]! & 0x04) === 0) throw new UserVerificationError('not_verified');
  const id = toBase64Url(new Uint8Array(assertion.rawId));
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: toBase64Url(new Uint8Array(response.clientDataJSON)),
      authenticatorData: toBase64Url(new Uint8Array(response.authenticatorData)),
      signature: toBase64Url(new Uint8Array(response.signature)),
      ...(response.userHandle ? { userHandle: toBase64Url(new Uint8Array(response.userHandle)) } : {}),
    },
    clientExtensionResults: {},
    ...(assertion.authenticatorAttachment ? { authenticatorAttachment: assertion.authenticatorAttachment } : {}),
  };
}
