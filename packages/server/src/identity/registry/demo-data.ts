import { makePinfl } from '../pinfl.ts';
import type { RegistryCitizen, RegistryDocument } from './types.ts';

/**
 * A few hundred synthetic citizens for demos and tests, generated from a fixed seed so every
 * run and every machine sees the same people. The names are made of the Uzbek words for
 * "sample", "test" and "example" so nobody mistakes them for real persons; every record has
 * `demo: true` and a photo that says DEMO.
 *
 * Every 10th citizen (index 9, 19, ...) holds only expired documents; every 7th holds an
 * expired passport besides a valid ID card. Document dates are counted back from today (UTC),
 * so the valid cards stay valid (2 to 9 years left) and the expired ones expired (3 to 9 years
 * ago) however old the demo set gets; names, PINFLs and numbers never change.
 */
export const DEMO_CITIZEN_COUNT = 300;

const MALE = [
  ['Demo', 'Демо'],
  ['Sinovjon', 'Синовжон'],
  ['Namunabek', 'Намунабек'],
  ['Misolxon', 'Мисолхон'],
  ['Tajriba', 'Тажриба'],
] as const;
const FEMALE = [
  ['Demoxon', 'Демохон'],
  ['Sinovoy', 'Синовой'],
  ['Namunagul', 'Намунагул'],
  ['Misolbibi', 'Мисолбиби'],
  ['Tajribaxon', 'Тажрибахон'],
] as const;
const SURNAMES = [
  ['Namunayev', 'Намунаев'],
  ['Sinovov', 'Синовов'],
  ['Misolov', 'Мисолов'],
  ['Demoyev', 'Демоев'],
  ['Tajribayev', 'Тажрибаев'],
  ['Soxtayev', 'Сохтаев'],
] as const;
const FATHERS = [
  ['Namuna', 'Намуна'],
  ['Sinov', 'Синов'],
  ['Misol', 'Мисол'],
  ['Demo', 'Демо'],
] as const;

/** mulberry32: tiny deterministic PRNG; quality is irrelevant here, repeatability is not. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function demoPhoto(initials: string): string {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="160" viewBox="0 0 120 160">` +
    `<rect width="120" height="160" fill="#e5e7eb"/><circle cx="60" cy="58" r="30" fill="#9ca3af"/>` +
    `<rect x="22" y="96" width="76" height="50" rx="24" fill="#9ca3af"/>` +
    `<text x="60" y="66" font-family="sans-serif" font-size="20" text-anchor="middle" fill="#fff">${initials}</text>` +
    `<text x="60" y="154" font-family="sans-serif" font-size="14" text-anchor="middle" fill="#b91c1c">DEMO</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

function addYears(date: string, years: number, minusDays = 0): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  d.setUTCDate(d.getUTCDate() - minusDays);
  return d.toISOString().slice(0, 10);
}

/** A date some years, months and days before `today` (YYYY-MM-DD). */
function before(today: string, years: number, months: number, days: number): string {
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() - years, d.getUTCMonth() - months, d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

/** `now` fixes "today" for the document dates (tests pin it; the server uses the clock). */
export function demoRegistryCitizens(count: number = DEMO_CITIZEN_COUNT, now: number = Date.now()): RegistryCitizen[] {
  const today = new Date(now).toISOString().slice(0, 10);
  const random = prng(20261125);
  const citizens: RegistryCitizen[] = [];
  for (let i = 0; i < count; i++) {
    const sex = random() < 0.5 ? 'M' : 'F';
    const year = 1950 + Math.floor(random() * 56); // 1950..2005: adults
    const birthDate = `${year}-${pad(1 + Math.floor(random() * 12), 2)}-${pad(1 + Math.floor(random() * 28), 2)}`;
    const district = 100 + Math.floor(random() * 800);
    const pinfl = makePinfl(birthDate, sex, district, i % 1000);
    const given = pick<readonly [string, string]>(random, sex === 'M' ? MALE : FEMALE);
    const surname = pick(random, SURNAMES);
    const father = pick(random, FATHERS);
    const feminine = sex === 'F';
    const documents: RegistryDocument[] = [];
    const onlyExpired = i % 10 === 9;
    // ID cards are valid 10 years; the demo ones were issued 1 to 8 years ago (2 to 9 years
    // left), or 13 to 18 years ago when expired. Three draws each, as ever, so the people after
    // this one stay who they were.
    const idIssued = onlyExpired
      ? before(today, 13 + Math.floor(random() * 5), Math.floor(random() * 12), Math.floor(random() * 28))
      : before(today, 1 + Math.floor(random() * 7), Math.floor(random() * 12), Math.floor(random() * 28));
    documents.push({
      kind: 'id_card',
      series: 'AD',
      number: pad(1_000_000 + i * 7919, 7),
      issuedOn: idIssued,
      expiresOn: addYears(idIssued, 10, 1),
      issuingOffice: `DEMO IIB ${pad(district, 3)}`,
    });
    if (i % 7 === 0 || onlyExpired) {
      const passportIssued = before(today, 15 + Math.floor(random() * 4), Math.floor(random() * 12), Math.floor(random() * 28));
      documents.push({
        kind: 'passport',
        series: 'FA',
        number: pad(2_000_000 + i * 104_729, 7).slice(-7),
        issuedOn: passportIssued,
        expiresOn: addYears(passportIssued, 10, 1),
        issuingOffice: `DEMO IIB ${pad(district, 3)}`,
      });
    }
    citizens.push({
      pinfl,
      name: {
        latn: { surname: feminine ? `${surname[0]}a` : surname[0], given: given[0], patronymic: `${father[0]}${feminine ? ' qizi' : 'ovich'}` },
        cyrl: { surname: feminine ? `${surname[1]}а` : surname[1], given: given[1], patronymic: `${father[1]}${feminine ? ' қизи' : 'ович'}` },
      },
      birthDate,
      sex,
      citizenship: 'UZ',
      photo: demoPhoto(`${given[0][0]}${surname[0][0]}`),
      documents,
      demo: true,
    });
  }
  return citizens;
}
