const publicKey = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };

/** A valid registration document; tests override one field at a time. */
export function sampleRegistration(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: 'soliq-portal',
    name: { 'uz-Latn': 'Soliq portali', 'uz-Cyrl': 'Солиқ портали', ru: 'Налоговый портал', en: 'Tax portal' },
    redirect_uris: ['https://my.soliq.uz/callback'],
    jwks: { keys: [publicKey] },
    scopes: ['openid', 'pinfl', 'profile'],
    acr_values: ['urn:tasdiq:acr:substantial', 'urn:tasdiq:acr:high'],
    contacts: ['security@soliq.uz'],
    ...overrides,
  };
}

export { publicKey as samplePublicKey };
