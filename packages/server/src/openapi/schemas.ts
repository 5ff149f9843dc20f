import { INTERACTIONS, SESSION_MODES, SESSION_RESULTS, SESSION_KINDS } from '../auth/schema.ts';

/**
 * Shapes the auth routes answer with. The routes declare no response schemas, so these are
 * the documented contract; the OpenAPI tests check real answers against them, which makes a
 * change on either side fail instead of drifting.
 */
const sessionId = { type: 'string', pattern: '^as_[A-Za-z0-9_-]{22}$', description: 'Opaque session id.' } as const;

export const COMPONENT_SCHEMAS = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details. Branch on `code`; `title` is translated (uz-Latn, uz-Cyrl, ru, en) and may change.',
    required: ['type', 'title', 'status', 'code'],
    properties: {
      type: { type: 'string', description: '`urn:tasdiq:problem:<code>`' },
      title: { type: 'string' },
      status: { type: 'integer' },
      code: { type: 'string', description: 'Stable machine-readable error code.' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      requestId: { type: 'string', description: 'Quote it when reporting a problem (also in the `x-request-id` header).' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['field', 'code', 'message'],
          properties: { field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  },
  StartedSession: {
    type: 'object',
    additionalProperties: false,
    required: ['sessionId', 'sessionToken', 'mode', 'interaction', 'state', 'result', 'verificationCode', 'qrStartSecret', 'expiresAt'],
    properties: {
      sessionId,
      sessionToken: {
        type: 'string',
        pattern: '^[A-Za-z0-9_-]{43}$',
        description: 'Bearer token for reading this session. Keep it on your server; it is shown once and stored only as a hash.',
      },
      mode: { type: 'string', enum: [...SESSION_MODES] },
      interaction: {
        type: 'string',
        enum: [...INTERACTIONS],
        description: 'How the citizen confirms: pick the verification code, or read and confirm the `reason` text.',
      },
      state: { type: 'string', enum: ['pending', 'complete'], description: '`complete` at once when the citizen has no active app (result NOT_ACTIVATED).' },
      result: { type: ['string', 'null'], enum: [...SESSION_RESULTS, null] },
      verificationCode: {
        type: ['string', 'null'],
        pattern: '^[0-9]{4}$',
        description: 'Four digits derived from the challenge. Show it to the citizen next to the request; the phone asks them to pick the same code.',
      },
      qrStartSecret: { type: ['string', 'null'], description: 'Only for mode `device_link`.' },
      expiresAt: { type: 'integer', description: 'Epoch milliseconds.' },
    },
  },
  SessionView: {
    type: 'object',
    additionalProperties: false,
    required: ['sessionId', 'kind', 'mode', 'state', 'result', 'assurance', 'subject', 'jws', 'expiresAt', 'completedAt'],
    properties: {
      sessionId,
      kind: { type: 'string', enum: [...SESSION_KINDS] },
      mode: { type: 'string', enum: [...SESSION_MODES] },
      state: { type: 'string', enum: ['pending', 'complete'] },
      result: { type: ['string', 'null'], enum: [...SESSION_RESULTS, null], description: 'Final result once `state` is `complete`.' },
      assurance: { type: ['string', 'null'], enum: ['high', 'substantial', 'low', null] },
      subject: {
        type: ['object', 'null'],
        additionalProperties: false,
        required: ['pinfl'],
        properties: { pinfl: { type: 'string', pattern: '^[0-9]{14}$' } },
      },
      jws: {
        type: ['string', 'null'],
        description:
          'Only when result is OK: a compact ES256 JWS signed by the citizen\'s device key, with `x5c` = [device certificate, Tasdiq CA]. ' +
          'Payload: `sid`, `sub` (PNOUZ-<pinfl>), `aud` (serviceId), `svc`, `iat`, and `nonce` (authentication) or `hash`, `hashAlg`, `doc` (signing); `msg` with the confirmed text for `confirmation_message`.',
      },
      expiresAt: { type: 'integer' },
      completedAt: { type: ['integer', 'null'] },
    },
  },
  SessionQr: {
    type: 'object',
    required: ['qr', 'elapsedSeconds', 'svg'],
    properties: {
      qr: { type: 'string', description: 'The current QR payload; it changes every second.' },
      elapsedSeconds: { type: 'integer' },
      svg: { type: 'string', description: 'The same payload as an SVG image.' },
    },
  },
} as const;

export type ComponentName = keyof typeof COMPONENT_SCHEMAS;
