import type { Translations, Locale } from './i18n.ts';
import { format } from './i18n.ts';

/**
 * Every error the API returns has a stable machine-readable `code`. Titles are translated;
 * clients must branch on `code`, never on text. New modules add their codes with
 * `defineErrors` so that each code has one status and one set of titles.
 */
export interface ErrorDefinition {
  readonly status: number;
  readonly title: Translations;
}

const registry = new Map<string, ErrorDefinition>();

export function defineErrors<const T extends Record<string, ErrorDefinition>>(definitions: T): { [K in keyof T]: K } {
  const codes = {} as { [K in keyof T]: K };
  for (const [code, definition] of Object.entries(definitions)) {
    const existing = registry.get(code);
    if (existing && existing !== definition && existing.status !== definition.status) {
      throw new Error(`error code ${code} is defined twice with different statuses`);
    }
    registry.set(code, definition);
    (codes as Record<string, string>)[code] = code;
  }
  return codes;
}

export function errorDefinition(code: string): ErrorDefinition | undefined {
  return registry.get(code);
}

export function registeredErrorCodes(): string[] {
  return [...registry.keys()].sort();
}

/**
 * A text in every language with `{name}` placeholders, rendered in the reader's language when
 * the problem is sent: for a precise reason that carries values (which digit, how many left).
 */
export interface LocalizedText {
  readonly text: Translations;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** A field-level problem inside a validation error. */
export interface FieldProblem {
  readonly field: string;
  readonly code: string;
  /** English; replaced by `localized` in the reader's language when that is given. */
  readonly message: string;
  readonly localized?: LocalizedText;
}

/** An error a handler throws on purpose; rendered as RFC 9457 problem+json. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly params: Readonly<Record<string, string | number>>;
  readonly errors: readonly FieldProblem[] | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** A detail in every language; takes the place of `detail` in the problem document. */
  readonly localizedDetail: LocalizedText | undefined;

  constructor(
    code: string,
    options: {
      detail?: string;
      localizedDetail?: LocalizedText;
      params?: Record<string, string | number>;
      errors?: FieldProblem[];
      headers?: Record<string, string>;
    } = {},
  ) {
    const definition = registry.get(code);
    if (!definition) throw new Error(`unregistered error code ${code}`);
    super(options.detail ?? (options.localizedDetail ? format(options.localizedDetail.text.en, options.localizedDetail.params) : definition.title.en));
    this.name = 'ApiError';
    this.code = code;
    this.status = definition.status;
    this.detail = options.detail;
    this.params = options.params ?? {};
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.localizedDetail = options.localizedDetail;
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: readonly FieldProblem[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problemType(code: string): string {
  return `urn:tasdiq:problem:${code}`;
}

export function toProblem(error: ApiError, locale: Locale, requestId?: string, instance?: string): ProblemDocument {
  const definition = registry.get(error.code)!;
  const problem: ProblemDocument = {
    type: problemType(error.code),
    title: format(definition.title[locale], error.params),
    status: error.status,
    code: error.code,
  };
  const detail = error.localizedDetail ? format(error.localizedDetail.text[locale], error.localizedDetail.params) : error.detail;
  if (detail) problem.detail = detail;
  if (instance) problem.instance = instance;
  if (requestId) problem.requestId = requestId;
  if (error.errors && error.errors.length > 0) {
    problem.errors = error.errors.map(({ localized, ...e }) => (localized ? { ...e, message: format(localized.text[locale], localized.params) } : e));
  }
  return problem;
}

/** Errors of the HTTP layer itself, shared by every module. */
export const CommonErrors = defineErrors({
  validation_failed: {
    status: 400,
    title: {
      'uz-Latn': "So'rov ma'lumotlari noto'g'ri",
      'uz-Cyrl': 'Сўров маълумотлари нотўғри',
      ru: 'Некорректные данные запроса',
      en: 'The request is not valid',
    },
  },
  malformed_body: {
    status: 400,
    title: {
      'uz-Latn': "So'rov tanasini o'qib bo'lmadi",
      'uz-Cyrl': 'Сўров танасини ўқиб бўлмади',
      ru: 'Не удалось прочитать тело запроса',
      en: 'The request body could not be read',
    },
  },
  malformed_url: {
    status: 400,
    title: {
      'uz-Latn': "So'rov manzili noto'g'ri",
      'uz-Cyrl': 'Сўров манзили нотўғри',
      ru: 'Некорректный адрес запроса',
      en: 'The request URL is not valid',
    },
  },
  unauthorized: {
    status: 401,
    title: {
      'uz-Latn': 'Avval tizimga kiring',
      'uz-Cyrl': 'Аввал тизимга киринг',
      ru: 'Требуется вход в систему',
      en: 'Sign-in is required',
    },
  },
  forbidden: {
    status: 403,
    title: {
      'uz-Latn': "Bu amal uchun ruxsatingiz yo'q",
      'uz-Cyrl': 'Бу амал учун рухсатингиз йўқ',
      ru: 'Недостаточно прав для этого действия',
      en: 'You are not allowed to do this',
    },
  },
  not_found: {
    status: 404,
    title: {
      'uz-Latn': 'Topilmadi',
      'uz-Cyrl': 'Топилмади',
      ru: 'Не найдено',
      en: 'Not found',
    },
  },
  method_not_allowed: {
    status: 405,
    title: {
      'uz-Latn': "Bu usulga ruxsat yo'q",
      'uz-Cyrl': 'Бу усулга рухсат йўқ',
      ru: 'Метод не разрешён',
      en: 'Method not allowed',
    },
  },
  conflict: {
    status: 409,
    title: {
      'uz-Latn': "So'rov joriy holatga zid",
      'uz-Cyrl': 'Сўров жорий ҳолатга зид',
      ru: 'Запрос противоречит текущему состоянию',
      en: 'The request conflicts with the current state',
    },
  },
  payload_too_large: {
    status: 413,
    title: {
      'uz-Latn': "So'rov juda katta",
      'uz-Cyrl': 'Сўров жуда катта',
      ru: 'Слишком большой запрос',
      en: 'The request is too large',
    },
  },
  request_timeout: {
    status: 408,
    title: {
      'uz-Latn': "So'rov belgilangan vaqtda yetib kelmadi",
      'uz-Cyrl': 'Сўров белгиланган вақтда етиб келмади',
      ru: 'Запрос не поступил полностью за отведённое время',
      en: 'The request did not arrive in time',
    },
  },
  headers_too_large: {
    status: 431,
    title: {
      'uz-Latn': "So'rov sarlavhalari juda katta",
      'uz-Cyrl': 'Сўров сарлавҳалари жуда катта',
      ru: 'Слишком большие заголовки запроса',
      en: 'The request headers are too large',
    },
  },
  malformed_request: {
    status: 400,
    title: {
      'uz-Latn': "So'rovni HTTP sifatida o'qib bo'lmadi",
      'uz-Cyrl': 'Сўровни HTTP сифатида ўқиб бўлмади',
      ru: 'Запрос не удалось разобрать как HTTP',
      en: 'The request could not be read as HTTP',
    },
  },
  unsupported_media_type: {
    status: 415,
    title: {
      'uz-Latn': "Ma'lumot turi qo'llab-quvvatlanmaydi",
      'uz-Cyrl': 'Маълумот тури қўллаб-қувватланмайди',
      ru: 'Тип содержимого не поддерживается',
      en: 'Unsupported content type',
    },
  },
  rate_limited: {
    status: 429,
    title: {
      'uz-Latn': "So'rovlar juda ko'p, {seconds} soniyadan keyin qayta urinib ko'ring",
      'uz-Cyrl': 'Сўровлар жуда кўп, {seconds} сониядан кейин қайта уриниб кўринг',
      ru: 'Слишком много запросов, повторите через {seconds} с',
      en: 'Too many requests, try again in {seconds} s',
    },
  },
  internal_error: {
    status: 500,
    title: {
      'uz-Latn': "Ichki xatolik. So'rov identifikatorini qo'llab-quvvatlash xizmatiga yuboring",
      'uz-Cyrl': 'Ички хатолик. Сўров идентификаторини қўллаб-қувватлаш хизматига юборинг',
      ru: 'Внутренняя ошибка. Сообщите идентификатор запроса в поддержку',
      en: 'Internal error. Quote the request id to support',
    },
  },
  service_unavailable: {
    status: 503,
    title: {
      'uz-Latn': 'Xizmat vaqtincha mavjud emas',
      'uz-Cyrl': 'Хизмат вақтинча мавжуд эмас',
      ru: 'Сервис временно недоступен',
      en: 'The service is temporarily unavailable',
    },
  },
});
