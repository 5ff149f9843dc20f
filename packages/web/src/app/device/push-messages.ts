import type { Catalog } from '../../shared/i18n.tsx';

export type PushKey =
  | 'pushTitle' | 'pushAsk' | 'pushPrivacy' | 'pushEnable' | 'pushLater' | 'pushEnabling' | 'pushOn' | 'pushDenied'
  | 'pushFailed' | 'pushUnsupported' | 'pushOff' | 'pushDeclined';

/** The notifications panel: why the app asks, and what each answer means for the citizen. */
export const pushText: Catalog<PushKey> = {
  'uz-Latn': {
    pushTitle: 'Bildirishnomalar',
    pushAsk: "Bildirishnomalarni yoqing: kirish so'rovi ilova yopiq bo'lsa ham telefoningizga yetib keladi.",
    pushPrivacy: "Bildirishnomada faqat so'rov kutayotgani aytiladi: siz haqingizda hech narsa push xizmati orqali o'tmaydi.",
    pushEnable: 'Bildirishnomalarni yoqish',
    pushLater: 'Hozir emas',
    pushEnabling: 'Yoqilmoqda…',
    pushOn: "Bildirishnomalar yoqilgan: so'rovlar ilova yopiq bo'lsa ham keladi.",
    pushDenied: "Bu ilova uchun bildirishnomalar brauzer sozlamalarida o'chirilgan. Ilova ochiq turganda so'rovlarni o'zi tekshiradi.",
    pushFailed: "Brauzer bildirishnomalarni yoqa olmadi ({reason}). Ilova ochiq turganda so'rovlarni o'zi tekshiradi.",
    pushUnsupported: "Bu brauzer bildirishnoma ko'rsata olmaydi. Ilova ochiq turganda so'rovlarni o'zi tekshiradi.",
    pushOff: "Server bildirishnoma yubormaydi. Ilova ochiq turganda so'rovlarni o'zi tekshiradi.",
    pushDeclined: "Bildirishnomalar o'chiq. Ilova ochiq turganda so'rovlarni o'zi tekshiradi.",
  },
  'uz-Cyrl': {
    pushTitle: 'Билдиришномалар',
    pushAsk: 'Билдиришномаларни ёқинг: кириш сўрови илова ёпиқ бўлса ҳам телефонингизга етиб келади.',
    pushPrivacy: 'Билдиришномада фақат сўров кутаётгани айтилади: сиз ҳақингизда ҳеч нарса push хизмати орқали ўтмайди.',
    pushEnable: 'Билдиришномаларни ёқиш',
    pushLater: 'Ҳозир эмас',
    pushEnabling: 'Ёқилмоқда…',
    pushOn: 'Билдиришномалар ёқилган: сўровлар илова ёпиқ бўлса ҳам келади.',
    pushDenied: 'Бу илова учун билдиришномалар браузер созламаларида ўчирилган. Илова очиқ турганда сўровларни ўзи текширади.',
    pushFailed: 'Браузер билдиришномаларни ёқа олмади ({reason}). Илова очиқ турганда сўровларни ўзи текширади.',
    pushUnsupported: 'Бу браузер билдиришнома кўрсата олмайди. Илова очиқ турганда сўровларни ўзи текширади.',
    pushOff: 'Сервер билдиришнома юбормайди. Илова очиқ турганда сўровларни ўзи текширади.',
    pushDeclined: 'Билдиришномалар ўчиқ. Илова очиқ турганда сўровларни ўзи текширади.',
  },
  ru: {
    pushTitle: 'Уведомления',
    pushAsk: 'Включите уведомления: запрос на вход дойдёт до телефона, даже когда приложение закрыто.',
    pushPrivacy: 'Уведомление сообщает только, что запрос ждёт: никаких данных о вас через службу push не проходит.',
    pushEnable: 'Включить уведомления',
    pushLater: 'Не сейчас',
    pushEnabling: 'Включение…',
    pushOn: 'Уведомления включены: запросы приходят, даже когда приложение закрыто.',
    pushDenied: 'Уведомления для этого приложения запрещены в настройках браузера. Пока приложение открыто, оно само проверяет запросы.',
    pushFailed: 'Браузер не смог включить уведомления ({reason}). Пока приложение открыто, оно само проверяет запросы.',
    pushUnsupported: 'Этот браузер не умеет показывать уведомления. Пока приложение открыто, оно само проверяет запросы.',
    pushOff: 'Сервер не отправляет уведомления. Пока приложение открыто, оно само проверяет запросы.',
    pushDeclined: 'Уведомления выключены. Пока приложение открыто, оно само проверяет запросы.',
  },
  en: {
    pushTitle: 'Notifications',
    pushAsk: 'Turn on notifications: a sign-in request then reaches your phone even when the app is closed.',
    pushPrivacy: 'A notification only says that a request is waiting: nothing about you passes through the push service.',
    pushEnable: 'Turn on notifications',
    pushLater: 'Not now',
    pushEnabling: 'Turning on…',
    pushOn: 'Notifications are on: requests arrive even when the app is closed.',
    pushDenied: 'Notifications are blocked for this app in the browser settings. While the app is open, it checks for requests itself.',
    pushFailed: 'The browser could not turn notifications on ({reason}). While the app is open, it checks for requests itself.',
    pushUnsupported: 'This browser cannot show notifications. While the app is open, it checks for requests itself.',
    pushOff: 'The server sends no notifications. While the app is open, it checks for requests itself.',
    pushDeclined: 'Notifications are off. While the app is open, it checks for requests itself.',
  },
};

export type PushReasonKey = 'unreachable' | 'timeout' | 'registerFailed';

/** The `{reason}` of pushFailed: short, in the citizen's language. */
export const pushReasonText: Catalog<PushReasonKey> = {
  'uz-Latn': { unreachable: "push xizmatiga ulanib bo'lmadi", timeout: 'push xizmati javob bermadi', registerFailed: "serverda ro'yxatdan o'tkazib bo'lmadi" },
  'uz-Cyrl': { unreachable: 'push хизматига уланиб бўлмади', timeout: 'push хизмати жавоб бермади', registerFailed: 'серверда рўйхатдан ўтказиб бўлмади' },
  ru: { unreachable: 'служба push недоступна', timeout: 'служба push не ответила', registerFailed: 'не удалось зарегистрировать на сервере' },
  en: { unreachable: 'the push service is unreachable', timeout: 'the push service did not answer', registerFailed: 'the server did not accept it' },
};
