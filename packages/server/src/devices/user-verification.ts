import { createHash } from 'node:crypto';
import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import { ApiError } from '../platform/errors.ts';
import type { WebAuthnParty } from '../platform/webauthn.ts';
import { DeviceErrors } from './errors.ts';
import type { Device } from './schema.ts';

/**
 * The citizen's PIN or biometrics, checked by the server for an app that registered a passkey
 * at activation (the browser app): every confirmation carries a WebAuthn assertion, with user
 * verification, over the request being confirmed. A stolen device key, or a script that reaches
 * it, cannot confirm without the citizen at the phone's lock.
 */

/** The WebAuthn challenge of a confirmation: SHA-256 of the signing input it confirms, base64url. */
export function userVerificationChallenge(signingInput: string): string {
  return createHash('sha256').update(signingInput, 'utf8').digest('base64url');
}

/**
 * Passes when the device has no passkey, or `assertion` verifies with user verification over
 * `signingInput`. `party` is asked only for a device with a passkey: most confirmations have none.
 */
export async function checkUserVerification(device: Pick<Device, 'uv_credential_id' | 'uv_public_key'>, assertion: AuthenticationResponseJSON | undefined, signingInput: string, party: () => WebAuthnParty): Promise<void> {
  if (!device.uv_credential_id || !device.uv_public_key) return;
  const { id: rpId, origin } = party();
  if (!assertion) throw new ApiError(DeviceErrors.device_user_verification_required);
  if (assertion.id !== device.uv_credential_id) throw new ApiError(DeviceErrors.device_user_verification_invalid, { detail: 'the assertion is not made with the passkey registered at activation' });
  let verified: boolean;
  try {
    // Platform passkeys keep no signature counter (always 0), and each assertion is bound to
    // one request's signing input, so a counter would protect nothing here: none is stored.
    ({ verified } = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: userVerificationChallenge(signingInput),
      expectedOrigin: origin,
      expectedRPID: rpId,
      credential: { id: device.uv_credential_id, publicKey: new Uint8Array(Buffer.from(device.uv_public_key, 'base64url')), counter: 0 },
      requireUserVerification: true,
    }));
  } catch (error) {
    throw new ApiError(DeviceErrors.device_user_verification_invalid, { detail: (error as Error).message.slice(0, 200) });
  }
  if (!verified) throw new ApiError(DeviceErrors.device_user_verification_invalid);
}
