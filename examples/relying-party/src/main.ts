import { join } from 'node:path';
import { loadClientKey } from './keys.ts';
import { createRelyingParty, registration } from './app.ts';

const port = Number(process.env.PORT ?? 4000);
const publicUrl = process.env.RP_PUBLIC_URL ?? `http://localhost:${port}`;
const clientId = process.env.RP_CLIENT_ID ?? 'example-relying-party';
const issuer = process.env.TASDIQ_ISSUER ?? 'http://127.0.0.1:3000';
const key = await loadClientKey({ jwk: process.env.RP_PRIVATE_JWK, file: process.env.RP_KEY_FILE ?? join(import.meta.dirname, '..', '.data', 'client-key.json') });

if (process.argv.includes('--print-registration')) {
  console.log(JSON.stringify(registration({ publicUrl, clientId, key }), null, 2));
} else {
  const app = await createRelyingParty({ issuer, publicUrl, clientId, key, logger: true });
  await app.listen({ host: process.env.HOST ?? 'localhost', port });
}
