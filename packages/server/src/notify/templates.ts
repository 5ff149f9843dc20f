import { format, type Locale, type Translations } from '../platform/i18n.ts';
import { smsSegments, type SmsSegmentInfo } from './sms-segments.ts';

/**
 * SMS texts per message kind. Uzbek Latin is written with the ASCII apostrophe (o'/g') rather
 * than U+02BB/U+2018 so it stays in GSM-7: one segment holds 160 characters, not 70.
 * Cyrillic texts are UCS-2 by nature; they are kept short enough for one or two segments.
 */
interface TemplateDefinition {
  readonly params: readonly string[];
  readonly text: Translations;
}

const TEMPLATES = {
  'enrollment.binding_code': {
    params: ['code', 'operatorOffice'],
    text: {
      'uz-Latn': "Tasdiq: telefonni bog'lash kodi {code}. Uni faqat {operatorOffice} operatoriga ayting. Hech kimga telefon orqali aytmang.",
      'uz-Cyrl': 'Tasdiq: телефонни боғлаш коди {code}. Уни фақат {operatorOffice} операторига айтинг. Ҳеч кимга телефон орқали айтманг.',
      ru: 'Tasdiq: код привязки телефона {code}. Назовите его только оператору {operatorOffice}. Никому не сообщайте его по телефону.',
      en: 'Tasdiq: your phone binding code is {code}. Tell it only to the operator at {operatorOffice}. Never share it by phone.',
    },
  },
  'auth.open_app': {
    params: ['service'],
    text: {
      'uz-Latn': "Tasdiq: {service} kirishni tasdiqlashni so'ramoqda. Tasdiq ilovasini oching.",
      'uz-Cyrl': 'Tasdiq: {service} киришни тасдиқлашни сўрамоқда. Tasdiq иловасини очинг.',
      ru: 'Tasdiq: {service} просит подтвердить вход. Откройте приложение Tasdiq.',
      en: 'Tasdiq: {service} asks you to confirm a sign-in. Open the Tasdiq app.',
    },
  },
  // A signing request's "open the app" text names what is asked: a signature, not a sign-in.
  'sign.open_app': {
    params: ['service'],
    text: {
      'uz-Latn': "Tasdiq: {service} hujjatni imzolashingizni so'ramoqda. Tasdiq ilovasini oching.",
      'uz-Cyrl': 'Tasdiq: {service} ҳужжатни имзолашингизни сўрамоқда. Tasdiq иловасини очинг.',
      ru: 'Tasdiq: {service} просит подписать документ. Откройте приложение Tasdiq.',
      en: 'Tasdiq: {service} asks you to sign a document. Open the Tasdiq app.',
    },
  },
  'auth.sms_otp': {
    // `origin` is optional: when given, renderText appends the origin-bound line.
    params: ['code', 'service'],
    text: {
      'uz-Latn': '{service} uchun kod: {code}. Hech kimga aytmang.',
      'uz-Cyrl': '{service} учун код: {code}. Ҳеч кимга айтманг.',
      ru: 'Код для {service}: {code}. Никому не сообщайте.',
      en: 'Your code for {service} is {code}. Do not share it.',
    },
  },
  'device.activated': {
    params: [],
    text: {
      'uz-Latn': "Tasdiq: hisobingizga yangi qurilma ulandi. Agar bu siz bo'lmasangiz, davlat xizmatlari markaziga murojaat qiling.",
      'uz-Cyrl': 'Tasdiq: ҳисобингизга янги қурилма уланди. Бу сиз бўлмасангиз, давлат хизматлари марказига мурожаат қилинг.',
      ru: 'Tasdiq: к вашему ID подключено новое устройство. Если это были не вы, обратитесь в центр госуслуг.',
      en: 'Tasdiq: a new device was activated for your ID. If this was not you, contact a public services center.',
    },
  },
} as const satisfies Record<string, TemplateDefinition>;

export type NotificationKind = keyof typeof TEMPLATES;
export const NOTIFICATION_KINDS = Object.keys(TEMPLATES) as NotificationKind[];

export function isNotificationKind(kind: string): kind is NotificationKind {
  return Object.hasOwn(TEMPLATES, kind);
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks a message's kind and parameters when it is enqueued, so a caller's mistake fails
 * its own transaction instead of a message failing later in a worker nobody watches.
 */
export function validateTemplateParams(kind: string, params: Readonly<Record<string, string | number>>): void {
  if (!isNotificationKind(kind)) throw new TemplateError(`unknown notification kind "${kind}"`);
  const definition: TemplateDefinition = TEMPLATES[kind];
  for (const name of definition.params) {
    if (!(name in params)) throw new TemplateError(`${kind}: missing parameter "${name}"`);
  }
  for (const [name, value] of Object.entries(params)) {
    const s = String(value);
    if (name === 'origin' && s === '') continue;
    if (s.length === 0 || s.length > 100 || CONTROL.test(s)) throw new TemplateError(`${kind}: parameter "${name}" must be 1-100 printable characters`);
  }
  if (kind === 'auth.sms_otp' && params.origin !== undefined && params.origin !== '' && originHost(String(params.origin)) === undefined) {
    throw new TemplateError(`${kind}: "origin" must be a host name such as my.gov.uz or an https origin`);
  }
}

/** The host an origin-bound code names: `my.gov.uz` from itself or from `https://my.gov.uz`. */
function originHost(origin: string): string | undefined {
  let host = origin.toLowerCase();
  if (host.includes('://')) {
    try {
      const url = new URL(origin);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
      host = url.host;
    } catch {
      return undefined;
    }
  }
  return HOSTNAME.test(host) ? host : undefined;
}

export interface RenderedText extends SmsSegmentInfo {
  readonly text: string;
}

export function renderText(kind: string, locale: Locale, params: Readonly<Record<string, string | number>>): RenderedText {
  validateTemplateParams(kind, params);
  const definition: TemplateDefinition = TEMPLATES[kind as NotificationKind];
  let text = format(definition.text[locale], params);
  const host = kind === 'auth.sms_otp' && params.origin ? originHost(String(params.origin)) : undefined;
  // The origin-bound one-time code line (WebOTP): a browser fills the code in only on that
  // origin, which defeats a phishing site relaying it.
  if (host) text += `\n\n@${host} #${params.code}`;
  return { text, ...smsSegments(text) };
}
