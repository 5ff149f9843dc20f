import { readFileSync } from 'node:fs';
import { validatePinfl } from '../pinfl.ts';
import type { PopulationRegistry, RegistryCitizen } from './types.ts';

/**
 * The built-in registry: a fixed list of people held in memory, from a JSON file
 * (`{ "citizens": [RegistryCitizen, ...] }`) or from the synthetic demo generator. For demos,
 * tests and offline pilots; production uses the HTTP connector to the state registry.
 */
export class InMemoryRegistry implements PopulationRegistry {
  readonly source: string;
  readonly #byPinfl = new Map<string, RegistryCitizen>();
  readonly #byDocument = new Map<string, RegistryCitizen>();

  constructor(citizens: readonly RegistryCitizen[], source: string) {
    this.source = source;
    for (const citizen of citizens) {
      const check = validatePinfl(citizen.pinfl);
      if (!check.ok) throw new Error(`registry data: citizen with PINFL ending ${citizen.pinfl.slice(-2)}: ${check.message}`);
      if (this.#byPinfl.has(citizen.pinfl)) throw new Error(`registry data: duplicate PINFL ending ${citizen.pinfl.slice(-2)}`);
      this.#byPinfl.set(citizen.pinfl, citizen);
      for (const doc of citizen.documents) this.#byDocument.set(documentKey(doc.series, doc.number), citizen);
    }
  }

  get size(): number {
    return this.#byPinfl.size;
  }

  async findByPinfl(pinfl: string): Promise<RegistryCitizen | undefined> {
    return this.#byPinfl.get(pinfl);
  }

  async findByDocument(series: string, number: string): Promise<RegistryCitizen | undefined> {
    return this.#byDocument.get(documentKey(series, number));
  }
}

export function documentKey(series: string, number: string): string {
  return `${series.trim().toUpperCase()}:${number.trim()}`;
}

export function loadRegistryFile(path: string): InMemoryRegistry {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { citizens?: unknown };
  if (!parsed || !Array.isArray(parsed.citizens)) throw new Error(`registry file ${path}: expected { "citizens": [...] }`);
  return new InMemoryRegistry(parsed.citizens as RegistryCitizen[], 'file');
}
