export {
  DeviceClient,
  TasdiqApiError,
  type PendingRequest,
  type DeviceOutcome,
  type ServiceConsent,
  type DeviceState,
  type SavedDeviceState,
  type Problem,
  type PushConfig,
  type WebPushSubscriptionJson,
  type NativePushTarget,
  type HistoryItem,
  type HistoryPage,
  type KeyAttestation,
  type KeyAttestor,
  type UserVerifier,
} from './device-client.ts';
export { SessionClient, type StartedSession, type SessionView } from './session-client.ts';
export { canonicalRequest, activationMessage, keyAttestationChallenge, userVerificationChallenge, verificationCode, sha256, HEADERS, REQUEST_PREFIX, ACTIVATION_PREFIX, KEY_ATTESTATION_PREFIX } from './protocol.ts';
export { generateDeviceKey, signES256, type DeviceKey } from './keys.ts';
export { toBase64Url, fromBase64Url } from './encoding.ts';
