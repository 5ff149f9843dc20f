import type { Locale, Translations } from '../../platform/i18n.ts';

/** Every text of the sign-in pages, in each language; a missing translation is a type error. */
export const TEXTS = {
  title: { 'uz-Latn': 'Tasdiq orqali kirish', 'uz-Cyrl': 'Тасдиқ орқали кириш', ru: 'Вход через Tasdiq', en: 'Sign in with Tasdiq' },
  signingInto: { 'uz-Latn': 'Xizmat: {service}', 'uz-Cyrl': 'Хизмат: {service}', ru: 'Сервис: {service}', en: 'Service: {service}' },
  hintLabel: {
    'uz-Latn': 'Telefon raqami yoki JShShIR',
    'uz-Cyrl': 'Телефон рақами ёки ЖШШИР',
    ru: 'Номер телефона или ПИНФЛ',
    en: 'Phone number or PINFL',
  },
  hintHelp: {
    'uz-Latn': 'Masalan: +998 90 123 45 67 yoki 14 raqamli JShShIR',
    'uz-Cyrl': 'Масалан: +998 90 123 45 67 ёки 14 рақамли ЖШШИР',
    ru: 'Например: +998 90 123 45 67 или 14-значный ПИНФЛ',
    en: 'For example: +998 90 123 45 67 or your 14-digit PINFL',
  },
  hintInvalid: {
    'uz-Latn': "Telefon raqami yoki 14 raqamli JShShIRni kiriting",
    'uz-Cyrl': 'Телефон рақами ёки 14 рақамли ЖШШИРни киритинг',
    ru: 'Введите номер телефона или 14-значный ПИНФЛ',
    en: 'Enter a phone number or a 14-digit PINFL',
  },
  continue: { 'uz-Latn': 'Davom etish', 'uz-Cyrl': 'Давом этиш', ru: 'Продолжить', en: 'Continue' },
  cancel: { 'uz-Latn': 'Bekor qilish', 'uz-Cyrl': 'Бекор қилиш', ru: 'Отмена', en: 'Cancel' },
  confirmTitle: {
    'uz-Latn': 'Tasdiq ilovasida tasdiqlang',
    'uz-Cyrl': 'Тасдиқ иловасида тасдиқланг',
    ru: 'Подтвердите в приложении Tasdiq',
    en: 'Confirm in the Tasdiq app',
  },
  confirmHelp: {
    'uz-Latn': "Telefoningizdagi kod shu kod bilan bir xil ekanini tekshiring, so'ng tasdiqlang.",
    'uz-Cyrl': 'Телефонингиздаги код шу код билан бир хил эканини текширинг, сўнг тасдиқланг.',
    ru: 'Убедитесь, что код на телефоне совпадает с этим, и подтвердите.',
    en: 'Check that the code on your phone matches this one, then confirm.',
  },
  verificationCode: { 'uz-Latn': 'Tekshiruv kodi', 'uz-Cyrl': 'Текширув коди', ru: 'Код проверки', en: 'Verification code' },
  deviceLink: {
    'uz-Latn': "Shu telefonda ochish yoki QR kodni skanerlash",
    'uz-Cyrl': 'Шу телефонда очиш ёки QR кодни сканерлаш',
    ru: 'Открыть на этом телефоне или отсканировать QR-код',
    en: 'Open on this phone, or scan the QR code',
  },
  smsFallback: {
    'uz-Latn': "Ilova yo'qmi? SMS orqali kod oling",
    'uz-Cyrl': 'Илова йўқми? SMS орқали код олинг',
    ru: 'Нет приложения? Получите код по SMS',
    en: 'No app? Get a code by SMS',
  },
  methodLegend: { 'uz-Latn': 'Qanday tasdiqlaysiz?', 'uz-Cyrl': 'Қандай тасдиқлайсиз?', ru: 'Как вы подтвердите?', en: 'How will you confirm?' },
  methodApp: {
    'uz-Latn': 'Telefonimdagi Tasdiq ilovasida',
    'uz-Cyrl': 'Телефонимдаги Тасдиқ иловасида',
    ru: 'В приложении Tasdiq на моём телефоне',
    en: 'In the Tasdiq app on my phone',
  },
  methodQr: {
    'uz-Latn': "Tasdiq ilovasi bilan QR-kodni skanerlab (raqam kerak emas)",
    'uz-Cyrl': 'Тасдиқ иловаси билан QR-кодни сканерлаб (рақам керак эмас)',
    ru: 'Отсканировав QR-код приложением Tasdiq (номер не нужен)',
    en: 'By scanning a QR code with the Tasdiq app (no number needed)',
  },
  methodSms: { 'uz-Latn': 'SMS-kod bilan (oddiy telefon)', 'uz-Cyrl': 'SMS-код билан (оддий телефон)', ru: 'Кодом из SMS (обычный телефон)', en: 'With an SMS code (basic phone)' },
  qrTitle: { 'uz-Latn': 'QR-kodni skanerlang', 'uz-Cyrl': 'QR-кодни сканерланг', ru: 'Отсканируйте QR-код', en: 'Scan the QR code' },
  qrHelp: {
    'uz-Latn': "Tasdiq ilovasida «QR-kodni skanerlash»ni tanlang va shu kodni skanerlang. Kod har soniyada yangilanadi.",
    'uz-Cyrl': 'Тасдиқ иловасида «QR-кодни сканерлаш»ни танланг ва шу кодни сканерланг. Код ҳар сонияда янгиланади.',
    ru: 'В приложении Tasdiq выберите «Сканировать QR-код» и наведите на этот код. Код обновляется каждую секунду.',
    en: 'In the Tasdiq app choose "Scan QR code" and point it at this code. The code changes every second.',
  },
  qrAlt: {
    'uz-Latn': 'Tasdiq ilovasi uchun QR-kod',
    'uz-Cyrl': 'Тасдиқ иловаси учун QR-код',
    ru: 'QR-код для приложения Tasdiq',
    en: 'QR code for the Tasdiq app',
  },
  smsTitle: { 'uz-Latn': 'SMS-kodni kiriting', 'uz-Cyrl': 'SMS-кодни киритинг', ru: 'Введите код из SMS', en: 'Enter the SMS code' },
  smsHelp: {
    'uz-Latn': "Telefoningizga 6 raqamli kod yuborildi.",
    'uz-Cyrl': 'Телефонингизга 6 рақамли код юборилди.',
    ru: 'На ваш телефон отправлен 6-значный код.',
    en: 'A 6-digit code was sent to your phone.',
  },
  smsLabel: { 'uz-Latn': 'SMS-kod', 'uz-Cyrl': 'SMS-код', ru: 'Код из SMS', en: 'SMS code' },
  smsConfirm: { 'uz-Latn': 'Tasdiqlash', 'uz-Cyrl': 'Тасдиқлаш', ru: 'Подтвердить', en: 'Confirm' },
  smsWrong: {
    'uz-Latn': "Kod noto'g'ri. Qolgan urinishlar: {left}",
    'uz-Cyrl': 'Код нотўғри. Қолган уринишлар: {left}',
    ru: 'Неверный код. Осталось попыток: {left}',
    en: 'Wrong code. Attempts left: {left}',
  },
  smsMalformed: { 'uz-Latn': '6 ta raqamni kiriting', 'uz-Cyrl': '6 та рақамни киритинг', ru: 'Введите 6 цифр', en: 'Enter the 6 digits' },
  waiting: { 'uz-Latn': 'Tasdiqlash kutilmoqda…', 'uz-Cyrl': 'Тасдиқлаш кутилмоқда…', ru: 'Ожидаем подтверждения…', en: 'Waiting for confirmation…' },
  checkNow: { 'uz-Latn': 'Tekshirish', 'uz-Cyrl': 'Текшириш', ru: 'Проверить', en: 'Check now' },
  consentTitle: {
    'uz-Latn': "{service} quyidagi ma'lumotlarni so'ramoqda",
    'uz-Cyrl': '{service} қуйидаги маълумотларни сўрамоқда',
    ru: '{service} запрашивает следующие данные',
    en: '{service} asks for the following information',
  },
  consentHelp: {
    'uz-Latn': "Roziligingizni istalgan vaqtda shaxsiy kabinetda qaytarib olishingiz mumkin.",
    'uz-Cyrl': 'Розилигингизни исталган вақтда шахсий кабинетда қайтариб олишингиз мумкин.',
    ru: 'Вы можете отозвать согласие в любое время в личном кабинете.',
    en: 'You can withdraw your consent at any time in your Tasdiq account.',
  },
  allow: { 'uz-Latn': 'Ruxsat berish', 'uz-Cyrl': 'Рухсат бериш', ru: 'Разрешить', en: 'Allow' },
  deny: { 'uz-Latn': 'Rad etish', 'uz-Cyrl': 'Рад этиш', ru: 'Отказать', en: 'Deny' },
  unavailable: {
    'uz-Latn': "Tasdiq orqali kirish hozircha mavjud emas. Keyinroq urinib ko'ring.",
    'uz-Cyrl': 'Тасдиқ орқали кириш ҳозирча мавжуд эмас. Кейинроқ уриниб кўринг.',
    ru: 'Вход через Tasdiq сейчас недоступен. Попробуйте позже.',
    en: 'Signing in with Tasdiq is not available right now. Please try later.',
  },
  unknownCitizen: {
    'uz-Latn': "Bu raqam yoki JShShIR uchun faol Tasdiq topilmadi. Davlat xizmatlari markazida ro'yxatdan o'ting.",
    'uz-Cyrl': 'Бу рақам ёки ЖШШИР учун фаол Тасдиқ топилмади. Давлат хизматлари марказида рўйхатдан ўтинг.',
    ru: 'Для этого номера или ПИНФЛ нет активного Tasdiq. Подключитесь в Центре госуслуг.',
    en: 'No active Tasdiq was found for this number or PINFL. Enroll at a Public Services Center.',
  },
  tooMany: {
    'uz-Latn': "Urinishlar juda ko'p. Birozdan so'ng qayta urinib ko'ring.",
    'uz-Cyrl': 'Уринишлар жуда кўп. Бироздан сўнг қайта уриниб кўринг.',
    ru: 'Слишком много попыток. Попробуйте немного позже.',
    en: 'Too many attempts. Please try again shortly.',
  },
  denied: {
    'uz-Latn': "Kirish tasdiqlanmadi. Qaytadan boshlang.",
    'uz-Cyrl': 'Кириш тасдиқланмади. Қайтадан бошланг.',
    ru: 'Вход не подтверждён. Начните заново.',
    en: 'The sign-in was not confirmed. Please start again.',
  },
  logoutTitle: { 'uz-Latn': 'Tizimdan chiqasizmi?', 'uz-Cyrl': 'Тизимдан чиқасизми?', ru: 'Выйти из системы?', en: 'Sign out?' },
  logoutYes: { 'uz-Latn': 'Ha, chiqish', 'uz-Cyrl': 'Ҳа, чиқиш', ru: 'Да, выйти', en: 'Yes, sign me out' },
  logoutNo: { 'uz-Latn': "Yo'q, qolish", 'uz-Cyrl': 'Йўқ, қолиш', ru: 'Нет, остаться', en: 'No, stay signed in' },
  loggedOut: { 'uz-Latn': 'Siz tizimdan chiqdingiz', 'uz-Cyrl': 'Сиз тизимдан чиқдингиз', ru: 'Вы вышли из системы', en: 'You are signed out' },
  errorTitle: { 'uz-Latn': 'Xatolik', 'uz-Cyrl': 'Хатолик', ru: 'Ошибка', en: 'Something went wrong' },
  language: { 'uz-Latn': 'Til', 'uz-Cyrl': 'Тил', ru: 'Язык', en: 'Language' },
  claim_openid: {
    'uz-Latn': 'Ushbu xizmat uchun doimiy identifikator',
    'uz-Cyrl': 'Ушбу хизмат учун доимий идентификатор',
    ru: 'Постоянный идентификатор для этого сервиса',
    en: 'A stable identifier for this service',
  },
  claim_profile: {
    'uz-Latn': 'Familiya, ism, otasining ismi (lotin va kirill)',
    'uz-Cyrl': 'Фамилия, исм, отасининг исми (лотин ва кирилл)',
    ru: 'Фамилия, имя, отчество (латиница и кириллица)',
    en: 'Surname, given name and patronymic (Latin and Cyrillic)',
  },
  claim_pinfl: { 'uz-Latn': 'JShShIR', 'uz-Cyrl': 'ЖШШИР', ru: 'ПИНФЛ', en: 'PINFL (personal identification number)' },
  claim_birthdate: { 'uz-Latn': "Tug'ilgan sana", 'uz-Cyrl': 'Туғилган сана', ru: 'Дата рождения', en: 'Date of birth' },
  claim_phone: { 'uz-Latn': 'Telefon raqami', 'uz-Cyrl': 'Телефон рақами', ru: 'Номер телефона', en: 'Phone number' },
  claim_document: {
    'uz-Latn': 'Shaxsni tasdiqlovchi hujjat ma\'lumotlari',
    'uz-Cyrl': 'Шахсни тасдиқловчи ҳужжат маълумотлари',
    ru: 'Данные документа, удостоверяющего личность',
    en: 'Identity document details',
  },
  claim_offline_access: {
    'uz-Latn': "Siz tizimda bo'lmaganingizda ham kirish",
    'uz-Cyrl': 'Сиз тизимда бўлмаганингизда ҳам кириш',
    ru: 'Доступ, когда вы не в сети',
    en: 'Access while you are away',
  },
} as const satisfies Record<string, Translations>;

export type TextKey = keyof typeof TEXTS;

export function t(locale: Locale, key: TextKey, values: Record<string, string> = {}): string {
  return TEXTS[key][locale].replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
