import { readFileSync } from 'node:fs';
import { validatePinfl } from '../pinfl.ts';
import { parseRegistryCitizen } from './record.ts';
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
      for (const doc of citizen.documents) {
        const key = documentKey(doc.series, doc.number);
        const holder = this.#byDocument.get(key);
        if (holder && holder !== citizen) throw new Error(`registry data: document ${doc.series} ...${doc.number.slice(-2)} is held by two citizens`);
        this.#byDocument.set(key, citizen);
      }
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

/** Loads a registry file, holding every record to the same schema as the HTTP connector's answers. */
export function loadRegistryFile(path: string, now: number = Date.now()): InMemoryRegistry {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { citizens?: unknown };
  if (!parsed || !Array.isArray(parsed.citizens)) throw new Error(`registry file ${path}: expected { "citizens": [...] }`);
  const citizens = parsed.citizens.map((value: unknown, i: number) => {
    const record = parseRegistryCitizen(value, now);
    if (!record.ok) throw new Error(`registry file ${path}: citizens[${i}].${record.problem}`);
    return record.citizen;
  });
  return new InMemoryRegistry(citizens, 'file');
}
