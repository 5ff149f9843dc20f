import { isPrintableText } from '../../platform/text.ts';
import { validatePinfl } from '../pinfl.ts';
import { DOCUMENT_KINDS, type DocumentKind } from '../schema.ts';
import type { RegistryCitizen, RegistryDocument, RegistryName } from './types.ts';

/**
 * The one schema a registry record must meet, whoever supplies it (the state registry over
 * HTTP, a registry file): every field typed and bounded, names in both scripts, real ISO
 * dates, known document kinds, a photo that is an image data URL. Unknown fields are dropped,
 * a document listed twice is kept once. A record that fails is refused as a whole: half a
 * person must never be enrolled. Problems name the field, never its value (they are logged).
 */
export type RecordCheck = { readonly ok: true; readonly citizen: RegistryCitizen } | { readonly ok: false; readonly problem: string };

const MAX_NAME = 100;
const MAX_OFFICE = 200;
const MAX_DOCUMENTS = 20;
/** A passport-style photo as a data URL stays far below this; the HTTP answer is capped at 2 MiB. */
const MAX_PHOTO = 1_500_000;

/** Latin script as Uzbek writes it: letters and marks, the oʻ/gʻ apostrophes, hyphen, space, dot. */
const LATIN_NAME = /^(?=.*\p{Script=Latin})[\p{Script=Latin}\p{M}ʻʼ'‘’`\-. ]+$/u;
const CYRILLIC_NAME = /^(?=.*\p{Script=Cyrillic})[\p{Script=Cyrillic}\p{M}ʼ'’\-. ]+$/u;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const PHOTO = /^data:image\/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$/;
const SERIES = /^[A-Za-z]{1,4}$/;
const NUMBER = /^[0-9]{1,12}$/;
const COUNTRY = /^[A-Z]{2}$/;

class Refusal extends Error {}

function refuse(path: string, what: string): never {
  throw new Refusal(`${path}: ${what}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isoDate(value: unknown, path: string): string {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) refuse(path, 'expected a YYYY-MM-DD date');
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) refuse(path, 'not a real calendar date');
  return value;
}

function text(value: unknown, path: string, max: number): string {
  if (typeof value !== 'string') refuse(path, 'expected a string');
  const trimmed = value.trim();
  if (trimmed.length === 0) refuse(path, 'empty');
  if (trimmed.length > max) refuse(path, `longer than ${max} characters`);
  if (!isPrintableText(trimmed)) refuse(path, 'holds control or bidirectional-override characters');
  return trimmed;
}

function name(value: unknown, path: string, script: RegExp, scriptName: string): RegistryName {
  if (!isObject(value)) refuse(path, 'expected an object with surname, given and patronymic');
  const part = (key: 'surname' | 'given' | 'patronymic', optional: boolean): string => {
    const raw = value[key];
    // Not everyone has a patronymic; surname and given name are required.
    if (optional && (raw === undefined || raw === null || raw === '')) return '';
    const s = text(raw, `${path}.${key}`, MAX_NAME);
    if (!script.test(s)) refuse(`${path}.${key}`, `not written in ${scriptName} script`);
    return s;
  };
  return { surname: part('surname', false), given: part('given', false), patronymic: part('patronymic', true) };
}

function documentOf(value: unknown, path: string): RegistryDocument {
  if (!isObject(value)) refuse(path, 'expected a document object');
  const kind = value.kind;
  if (typeof kind !== 'string' || !(DOCUMENT_KINDS as readonly string[]).includes(kind)) refuse(`${path}.kind`, `expected one of ${DOCUMENT_KINDS.join(', ')}`);
  const series = value.series;
  if (typeof series !== 'string' || !SERIES.test(series)) refuse(`${path}.series`, 'expected 1 to 4 Latin letters');
  const number = value.number;
  if (typeof number !== 'string' || !NUMBER.test(number)) refuse(`${path}.number`, 'expected 1 to 12 digits');
  const issuedOn = isoDate(value.issuedOn, `${path}.issuedOn`);
  const expiresOn = isoDate(value.expiresOn, `${path}.expiresOn`);
  if (expiresOn < issuedOn) refuse(`${path}.expiresOn`, 'before issuedOn');
  return { kind: kind as DocumentKind, series: series.toUpperCase(), number, issuedOn, expiresOn, issuingOffice: text(value.issuingOffice, `${path}.issuingOffice`, MAX_OFFICE) };
}

/** Checks and normalises one registry record; `now` bounds the birth date. */
export function parseRegistryCitizen(value: unknown, now: number = Date.now()): RecordCheck {
  try {
    if (!isObject(value)) refuse('citizen', 'expected an object');
    const pinfl = value.pinfl;
    if (typeof pinfl !== 'string' || !/^\d{14}$/.test(pinfl)) refuse('pinfl', 'expected 14 digits');
    const check = validatePinfl(pinfl, now);
    if (!check.ok) refuse('pinfl', check.message);
    if (!isObject(value.name)) refuse('name', 'expected an object with latn and cyrl');
    const latn = name(value.name.latn, 'name.latn', LATIN_NAME, 'Latin');
    const cyrl = name(value.name.cyrl, 'name.cyrl', CYRILLIC_NAME, 'Cyrillic');
    const birthDate = isoDate(value.birthDate, 'birthDate');
    if (birthDate > new Date(now).toISOString().slice(0, 10)) refuse('birthDate', 'in the future');
    const sex = value.sex;
    if (sex !== 'M' && sex !== 'F') refuse('sex', 'expected "M" or "F"');
    const citizenship = value.citizenship;
    if (typeof citizenship !== 'string' || !COUNTRY.test(citizenship)) refuse('citizenship', 'expected an ISO 3166-1 alpha-2 code');
    const photo = value.photo ?? null;
    if (photo !== null && (typeof photo !== 'string' || photo.length > MAX_PHOTO || !PHOTO.test(photo))) {
      refuse('photo', 'expected null or a base64 data:image/... URL');
    }
    if (!Array.isArray(value.documents)) refuse('documents', 'expected an array');
    if (value.documents.length > MAX_DOCUMENTS) refuse('documents', `more than ${MAX_DOCUMENTS}`);
    const documents: RegistryDocument[] = [];
    const seen = new Map<string, RegistryDocument>();
    value.documents.forEach((raw: unknown, i: number) => {
      const doc = documentOf(raw, `documents[${i}]`);
      const key = `${doc.series}:${doc.number}`;
      const earlier = seen.get(key);
      if (!earlier) {
        seen.set(key, doc);
        documents.push(doc);
      } else if (JSON.stringify(earlier) !== JSON.stringify(doc)) {
        refuse(`documents[${i}]`, 'the same series and number as an earlier document, with other data');
      }
    });
    const demo = value.demo ?? false;
    if (typeof demo !== 'boolean') refuse('demo', 'expected a boolean');
    return { ok: true, citizen: { pinfl, name: { latn, cyrl }, birthDate, sex, citizenship, photo, documents, demo } };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, problem: error.message };
    throw error;
  }
}
