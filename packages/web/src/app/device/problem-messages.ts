import { TasdiqApiError } from '@tasdiq/client';
import type { Catalog, Translate } from '../../shared/i18n.tsx';
import { UserVerificationError } from './user-verification.ts';

export type ProblemKey =
  | 'noScreenLock' | 'passkeyCancelled' | 'passkeyUnsupported' | 'passkeyNotVerified' | 'passkeyFailed'
  | 'storageUnavailable' | 'storageFailed' | 'offline' | 'unknown';

/**
 * What the citizen reads when something fails outside the API: the browser's own errors
 * (WebAuthn, IndexedDB, the network) come in English, or not at all, so each has a text here.
 * API problems show the server's translated `title` instead.
 */
export const problemText: Catalog<ProblemKey> = {
  'uz-Latn': {
    noScreenLock:
      "Bu telefonda ilova foydalana oladigan ekran qulfi (PIN-kod, chizma, barmoq izi yoki yuz) yo'q. Telefon sozlamalarida ekran qulfini yoqing va qayta faollashtiring: faollashtirish kodingiz hali ham amal qiladi.",
    passkeyCancelled: "PIN-kod yoki barmoq izi tekshiruvi bekor qilindi yoki vaqti tugadi. Qayta urinib ko'ring: faollashtirish kodingiz hali ham amal qiladi.",
    passkeyUnsupported: "Bu brauzer telefon qulfi bilan tekshirishni qo'llamaydi. Boshqa brauzerda oching: faollashtirish kodingiz hali ham amal qiladi.",
    passkeyNotVerified: "Telefon PIN-kod yoki biometrikani tekshirmadi. Ekran qulfini sozlang va qayta urinib ko'ring.",
    passkeyFailed: "Telefon qulfi bilan tekshirib bo'lmadi. Qayta urinib ko'ring: faollashtirish kodingiz hali ham amal qiladi.",
    storageUnavailable:
      "Bu brauzer ilova kalitlarini saqlay olmaydi (yashirin rejim yoki xotira to'lgan). Oddiy oynada oching: faollashtirish kodingiz hali ham amal qiladi.",
    storageFailed: "Kalitlarni telefonga saqlab bo'lmadi, shuning uchun faollashtirish bekor qilindi. Idoradan yangi faollashtirish kodini so'rang.",
    offline: "Serverga ulanib bo'lmadi. Internetni tekshirib, qayta urinib ko'ring.",
    unknown: "Kutilmagan xato yuz berdi. Qayta urinib ko'ring.",
  },
  'uz-Cyrl': {
    noScreenLock:
      'Бу телефонда илова фойдалана оладиган экран қулфи (PIN-код, чизма, бармоқ изи ёки юз) йўқ. Телефон созламаларида экран қулфини ёқинг ва қайта фаоллаштиринг: фаоллаштириш кодингиз ҳали ҳам амал қилади.',
    passkeyCancelled: 'PIN-код ёки бармоқ изи текшируви бекор қилинди ёки вақти тугади. Қайта уриниб кўринг: фаоллаштириш кодингиз ҳали ҳам амал қилади.',
    passkeyUnsupported: 'Бу браузер телефон қулфи билан текширишни қўлламайди. Бошқа браузерда очинг: фаоллаштириш кодингиз ҳали ҳам амал қилади.',
    passkeyNotVerified: 'Телефон PIN-код ёки биометрикани текширмади. Экран қулфини созланг ва қайта уриниб кўринг.',
    passkeyFailed: 'Телефон қулфи билан текшириб бўлмади. Қайта уриниб кўринг: фаоллаштириш кодингиз ҳали ҳам амал қилади.',
    storageUnavailable: 'Бу браузер илова калитларини сақлай олмайди (яширин режим ёки хотира тўлган). Оддий ойнада очинг: фаоллаштириш кодингиз ҳали ҳам амал қилади.',
    storageFailed: 'Калитларни телефонга сақлаб бўлмади, шунинг учун фаоллаштириш бекор қилинди. Идорадан янги фаоллаштириш кодини сўранг.',
    offline: 'Серверга уланиб бўлмади. Интернетни текшириб, қайта уриниб кўринг.',
    unknown: 'Кутилмаган хато юз берди. Қайта уриниб кўринг.',
  },
  ru: {
    noScreenLock:
      'На этом телефоне нет блокировки экрана (PIN-код, графический ключ, отпечаток пальца или лицо), которую может использовать приложение. Включите блокировку экрана в настройках телефона и активируйте снова: ваш код активации по-прежнему действует.',
    passkeyCancelled: 'Проверка PIN-кода или отпечатка пальца отменена или её время истекло. Попробуйте ещё раз: ваш код активации по-прежнему действует.',
    passkeyUnsupported: 'Этот браузер не поддерживает проверку блокировкой телефона. Откройте приложение в другом браузере: ваш код активации по-прежнему действует.',
    passkeyNotVerified: 'Телефон не проверил PIN-код или биометрию. Настройте блокировку экрана и попробуйте ещё раз.',
    passkeyFailed: 'Не удалось выполнить проверку блокировкой телефона. Попробуйте ещё раз: ваш код активации по-прежнему действует.',
    storageUnavailable: 'Этот браузер не может сохранить ключи приложения (режим инкогнито или нет места). Откройте обычное окно: ваш код активации по-прежнему действует.',
    storageFailed: 'Не удалось сохранить ключи на телефоне, поэтому активация отменена. Попросите в офисе новый код активации.',
    offline: 'Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.',
    unknown: 'Произошла непредвиденная ошибка. Попробуйте ещё раз.',
  },
  en: {
    noScreenLock:
      "This phone has no screen lock (PIN, pattern, fingerprint or face) the app can use. Turn on a screen lock in the phone's settings, then activate again: your activation code still works.",
    passkeyCancelled: 'The PIN or fingerprint check was cancelled or timed out. Try again: your activation code still works.',
    passkeyUnsupported: 'This browser cannot check your phone lock. Open the app in another browser: your activation code still works.',
    passkeyNotVerified: 'The phone did not check your PIN or biometrics. Set up a screen lock and try again.',
    passkeyFailed: 'The phone lock check did not work. Try again: your activation code still works.',
    storageUnavailable: 'This browser cannot keep the app’s keys (a private window, or the storage is full). Open a normal window: your activation code still works.',
    storageFailed: 'The keys could not be saved on this phone, so the activation was undone. Ask the office for a new activation code.',
    offline: 'The server could not be reached. Check the internet connection and try again.',
    unknown: 'Something unexpected went wrong. Try again.',
  },
};

/** Thrown when the device could not be kept after activation (and was revoked again). */
export class StorageError extends Error {
  readonly before: boolean;
  /** `before`: found before the code was spent; otherwise the activation was undone. */
  constructor(before: boolean, cause?: unknown) {
    super(before ? 'device storage unavailable' : 'device storage failed', cause === undefined ? undefined : { cause });
    this.name = 'StorageError';
    this.before = before;
  }
}

const PASSKEY: Record<UserVerificationError['problem'], ProblemKey> = {
  no_screen_lock: 'noScreenLock',
  cancelled: 'passkeyCancelled',
  unsupported: 'passkeyUnsupported',
  not_verified: 'passkeyNotVerified',
  failed: 'passkeyFailed',
};

/** A sentence for the citizen, never a code or the browser's English. */
export function describeProblem(error: unknown, t: Translate<ProblemKey>): string {
  if (error instanceof TasdiqApiError) return error.title.trim() || t('unknown');
  if (error instanceof UserVerificationError) return t(PASSKEY[error.problem]);
  if (error instanceof StorageError) return t(error.before ? 'storageUnavailable' : 'storageFailed');
  // fetch rejects with a TypeError when the network or the server is unreachable.
  if (error instanceof TypeError) return t('offline');
  return t('unknown');
}
