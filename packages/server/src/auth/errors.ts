import { defineErrors } from '../platform/errors.ts';

export const AuthErrors = defineErrors({
  auth_confirmation_message_required: {
    status: 400,
    title: {
      'uz-Latn': "Tasdiqlash xabari rejimi uchun ilovada ko'rsatiladigan matn (reason) kerak",
      'uz-Cyrl': 'Тасдиқлаш хабари режими учун иловада кўрсатиладиган матн (reason) керак',
      ru: 'Для режима подтверждения сообщения нужен текст для телефона (reason)',
      en: 'The confirmation_message interaction needs the text to show on the phone (reason)',
    },
  },
  auth_enrollment_suspended: {
    status: 403,
    title: {
      'uz-Latn': "Ro'yxatdan o'tish to'xtatilgan: so'rovni tasdiqlab bo'lmaydi",
      'uz-Cyrl': 'Рўйхатдан ўтиш тўхтатилган: сўровни тасдиқлаб бўлмайди',
      ru: 'Регистрация приостановлена: запрос нельзя подтвердить',
      en: 'The enrollment is suspended: the request cannot be confirmed',
    },
  },
  auth_subject_required: {
    status: 400,
    title: {
      'uz-Latn': "Telefon raqami yoki JShShIR ko'rsatilishi kerak (faqat bittasi)",
      'uz-Cyrl': 'Телефон рақами ёки ЖШШИР кўрсатилиши керак (фақат биттаси)',
      ru: 'Укажите номер телефона или ПИНФЛ (только одно)',
      en: 'Give a phone number or a PINFL (exactly one)',
    },
  },
  auth_session_already_pending: {
    status: 409,
    title: {
      'uz-Latn': "Bu fuqaro uchun tasdiqlanmagan so'rov allaqachon bor",
      'uz-Cyrl': 'Бу фуқаро учун тасдиқланмаган сўров аллақачон бор',
      ru: 'У этого гражданина уже есть неподтверждённый запрос',
      en: 'This citizen already has a pending request',
    },
  },
  auth_cooldown: {
    status: 429,
    title: {
      'uz-Latn': "Ko'p rad etilgan so'rovlar: {seconds} soniyadan keyin qayta urinib ko'ring",
      'uz-Cyrl': 'Кўп рад этилган сўровлар: {seconds} сониядан кейин қайта уриниб кўринг',
      ru: 'Слишком много отклонённых запросов: повторите через {seconds} с',
      en: 'Too many refused requests: try again in {seconds} s',
    },
  },
  auth_otp_rate_limited: {
    status: 429,
    title: {
      'uz-Latn': "SMS kodlar juda ko'p so'raldi: {seconds} soniyadan keyin qayta urinib ko'ring",
      'uz-Cyrl': 'СМС кодлар жуда кўп сўралди: {seconds} сониядан кейин қайта уриниб кўринг',
      ru: 'Слишком много SMS-кодов: повторите через {seconds} с',
      en: 'Too many SMS codes requested: try again in {seconds} s',
    },
  },
  auth_session_not_found: {
    status: 404,
    title: {
      'uz-Latn': 'Sessiya topilmadi',
      'uz-Cyrl': 'Сессия топилмади',
      ru: 'Сессия не найдена',
      en: 'Session not found',
    },
  },
  auth_session_not_pending: {
    status: 409,
    title: {
      'uz-Latn': 'Sessiya allaqachon yakunlangan',
      'uz-Cyrl': 'Сессия аллақачон якунланган',
      ru: 'Сессия уже завершена',
      en: 'The session is already complete',
    },
  },
  auth_session_expired: {
    status: 410,
    title: {
      'uz-Latn': "Sessiya muddati o'tgan",
      'uz-Cyrl': 'Сессия муддати ўтган',
      ru: 'Срок сессии истёк',
      en: 'The session has expired',
    },
  },
  auth_wrong_verification_code: {
    status: 409,
    title: {
      'uz-Latn': "Tanlangan kod noto'g'ri: so'rov bekor qilindi",
      'uz-Cyrl': 'Танланган код нотўғри: сўров бекор қилинди',
      ru: 'Выбран неверный код: запрос отменён',
      en: 'The wrong code was chosen: the request is cancelled',
    },
  },
  auth_signature_invalid: {
    status: 400,
    title: {
      'uz-Latn': "Tasdiqlash imzosi noto'g'ri",
      'uz-Cyrl': 'Тасдиқлаш имзоси нотўғри',
      ru: 'Неверная подпись подтверждения',
      en: 'The confirmation signature is invalid',
    },
  },
  auth_qr_invalid: {
    status: 400,
    title: {
      'uz-Latn': "QR kod noto'g'ri yoki eskirgan: ekrandagi kodni qayta skanerlang",
      'uz-Cyrl': 'QR код нотўғри ёки эскирган: экрандаги кодни қайта сканерланг',
      ru: 'QR-код неверен или устарел: отсканируйте код с экрана ещё раз',
      en: 'The QR code is wrong or stale: scan the code on the screen again',
    },
  },
  auth_link_wrong_citizen: {
    status: 403,
    title: {
      'uz-Latn': "Bu so'rov boshqa fuqaro uchun",
      'uz-Cyrl': 'Бу сўров бошқа фуқаро учун',
      ru: 'Этот запрос для другого гражданина',
      en: 'This request is for another citizen',
    },
  },
  auth_otp_wrong: {
    status: 400,
    title: {
      'uz-Latn': "SMS kod noto'g'ri; {attemptsLeft} urinish qoldi",
      'uz-Cyrl': 'СМС код нотўғри; {attemptsLeft} уриниш қолди',
      ru: 'Неверный SMS-код; осталось попыток: {attemptsLeft}',
      en: 'Wrong SMS code; {attemptsLeft} attempts left',
    },
  },
  auth_otp_attempts_exhausted: {
    status: 409,
    title: {
      'uz-Latn': "SMS kod urinishlari tugadi: yangi kod so'rang",
      'uz-Cyrl': 'СМС код уринишлари тугади: янги код сўранг',
      ru: 'Попытки ввода SMS-кода исчерпаны: запросите новый код',
      en: 'No SMS code attempts left: ask for a new code',
    },
  },
  auth_mode_mismatch: {
    status: 409,
    title: {
      'uz-Latn': "Bu amal ushbu sessiya turiga mos emas",
      'uz-Cyrl': 'Бу амал ушбу сессия турига мос эмас',
      ru: 'Это действие не подходит для этого вида сессии',
      en: 'This action does not fit this kind of session',
    },
  },
});
