/**
 * `npm run bench -- [NAME...]`: runs the benchmark programs in this folder (all of them when
 * no name is given). Each `bench/NAME.ts` default-exports an async function that prints one
 * summary line per figure set: `bench NAME key=value key=value ...`.
 */
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const cpu = cpus()[0]?.model ?? 'unknown cpu';
console.log(`# machine: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
for (const name of requested.length > 0 ? requested : available) {
  const module = (await import(join(here, `${name}.ts`))) as { default: () => Promise<void> };
  await module.default();
}
