import type { Insertable } from 'kysely';
import type { OfficeTable } from './schema.ts';
import { REGIONS } from './regions.ts';

/**
 * Synthetic offices: one public services center and one notary office per region, plus the
 * Boysun district center the mission article was written at. Addresses are clearly fake.
 */
export function demoOffices(now: number): Insertable<OfficeTable>[] {
  const offices: Insertable<OfficeTable>[] = [];
  for (const [region, name] of Object.entries(REGIONS)) {
    const slug = region.slice(3).toLowerCase();
    offices.push({
      id: `psc-${slug}-01`,
      kind: 'public_services_center',
      region,
      name_uz_latn: `${name['uz-Latn']} Davlat xizmatlari markazi`,
      name_uz_cyrl: `${name['uz-Cyrl']} Давлат хизматлари маркази`,
      name_ru: `Центр государственных услуг (${name.ru})`,
      name_en: `Public Services Center, ${name.en}`,
      address: `DEMO: 1 Example street, ${name.en}`,
      active: 1,
      created_at: now,
    });
    offices.push({
      id: `notary-${slug}-01`,
      kind: 'notary',
      region,
      name_uz_latn: `${name['uz-Latn']} 1-son davlat notarial idorasi`,
      name_uz_cyrl: `${name['uz-Cyrl']} 1-сон давлат нотариал идораси`,
      name_ru: `Государственная нотариальная контора №1 (${name.ru})`,
      name_en: `State Notary Office No. 1, ${name.en}`,
      address: `DEMO: 2 Example street, ${name.en}`,
      active: 1,
      created_at: now,
    });
  }
  offices.push({
    id: 'psc-su-boysun',
    kind: 'public_services_center',
    region: 'UZ-SU',
    name_uz_latn: 'Boysun tumani Davlat xizmatlari markazi',
    name_uz_cyrl: 'Бойсун тумани Давлат хизматлари маркази',
    name_ru: 'Центр государственных услуг Байсунского района',
    name_en: 'Boysun District Public Services Center',
    address: 'DEMO: Boysun, Surkhandarya',
    active: 1,
    created_at: now,
  });
  return offices;
}
