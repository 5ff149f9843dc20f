import { fromBase64Url, toBase64Url } from '@tasdiq/client';

/**
 * PIN or biometrics through WebAuthn with user verification: a passkey made at activation,
 * asked for before each confirmation. It gates the app's use of its keys on this phone; the
 * server trusts the device key's signature, as with a native app's keystore-bound key.
 */
export async function createUserVerification(deviceId: string): Promise<string> {
  const credential = (await navigator.credentials.create({
    publicKey: {
      rp: { name: 'Tasdiq', id: location.hostname },
      user: { id: crypto.getRandomValues(new Uint8Array(16)), name: deviceId, displayName: 'Tasdiq' },
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { authenticatorAttachment: 'platform', userVerification: 'required', residentKey: 'discouraged' },
      timeout: 60_000,
    },
  })) as PublicKeyCredential | null;
  if (!credential) throw new Error('no passkey');
  return toBase64Url(new Uint8Array(credential.rawId));
}

export async function verifyUser(credentialId: string): Promise<void> {
  const assertion = (await navigator.credentials.get({
    publicKey: {
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      allowCredentials: [{ type: 'public-key', id: fromBase64Url(credentialId) as Uint8Array<ArrayBuffer> }],
      userVerification: 'required',
      timeout: 60_000,
    },
  })) as PublicKeyCredential | null;
  const flags = assertion ? new Uint8Array((assertion.response as AuthenticatorAssertionResponse).authenticatorData)[32]! : 0;
  // Bit 2 (UV): the authenticator checked the PIN or biometrics, not just presence.
  if ((flags & 0x04) === 0) throw new Error('user not verified');
}
