import { defineErrors } from '../platform/errors.ts';

export const EnrollmentErrors = defineErrors({
  phone_already_bound: {
    status: 409,
    title: {
      'uz-Latn': "Bu telefon raqami boshqa fuqaroga bog'langan",
      'uz-Cyrl': 'Бу телефон рақами бошқа фуқарога боғланган',
      ru: 'Этот номер телефона привязан к другому гражданину',
      en: 'This phone number is bound to another citizen',
    },
  },
  phone_binding_exists: {
    status: 409,
    title: {
      'uz-Latn': "Fuqaroning faol telefoni bor; qayta bog'lashdan foydalaning",
      'uz-Cyrl': 'Фуқаронинг фаол телефони бор; қайта боғлашдан фойдаланинг',
      ru: 'У гражданина уже есть активный телефон; используйте перепривязку',
      en: 'The citizen already has an active phone; use re-bind',
    },
  },
  already_enrolled: {
    status: 409,
    title: {
      'uz-Latn': "Fuqaro allaqachon ro'yxatdan o'tgan",
      'uz-Cyrl': 'Фуқаро аллақачон рўйхатдан ўтган',
      ru: 'Гражданин уже зарегистрирован',
      en: 'The citizen is already enrolled',
    },
  },
  not_enrolled: {
    status: 409,
    title: {
      'uz-Latn': "Fuqaro ro'yxatdan o'tmagan",
      'uz-Cyrl': 'Фуқаро рўйхатдан ўтмаган',
      ru: 'Гражданин не зарегистрирован',
      en: 'The citizen is not enrolled',
    },
  },
  enrollment_not_active: {
    status: 409,
    title: {
      'uz-Latn': "Fuqaroning ro'yxati to'xtatilgan yoki bekor qilingan",
      'uz-Cyrl': 'Фуқаронинг рўйхати тўхтатилган ёки бекор қилинган',
      ru: 'Регистрация гражданина приостановлена или отозвана',
      en: 'The enrollment is suspended or revoked',
    },
  },
  enrollment_not_suspended: {
    status: 409,
    title: {
      'uz-Latn': "Ro'yxat to'xtatilmagan",
      'uz-Cyrl': 'Рўйхат тўхтатилмаган',
      ru: 'Регистрация не приостановлена',
      en: 'The enrollment is not suspended',
    },
  },
  no_active_binding: {
    status: 409,
    title: {
      'uz-Latn': "Fuqaroning faol telefoni yo'q",
      'uz-Cyrl': 'Фуқаронинг фаол телефони йўқ',
      ru: 'У гражданина нет активного телефона',
      en: 'The citizen has no active phone',
    },
  },
  binding_not_found: {
    status: 404,
    title: {
      'uz-Latn': "Kutilayotgan telefon bog'lanishi topilmadi",
      'uz-Cyrl': 'Кутилаётган телефон боғланиши топилмади',
      ru: 'Ожидающая привязка телефона не найдена',
      en: 'No pending phone binding with this id',
    },
  },
  binding_code_wrong: {
    status: 400,
    title: {
      'uz-Latn': "SMS kodi noto'g'ri; {attemptsLeft} ta urinish qoldi",
      'uz-Cyrl': 'СМС коди нотўғри; {attemptsLeft} та уриниш қолди',
      ru: 'Неверный код из СМС; осталось попыток: {attemptsLeft}',
      en: 'The SMS code is wrong; attempts left: {attemptsLeft}',
    },
  },
  binding_code_expired: {
    status: 410,
    title: {
      'uz-Latn': "SMS kodining muddati tugagan; qaytadan yuboring",
      'uz-Cyrl': 'СМС кодининг муддати тугаган; қайтадан юборинг',
      ru: 'Срок действия кода из СМС истёк; отправьте заново',
      en: 'The SMS code has expired; send a new one',
    },
  },
  binding_attempts_exhausted: {
    status: 429,
    title: {
      'uz-Latn': "Urinishlar tugadi; kodni qaytadan yuboring",
      'uz-Cyrl': 'Уринишлар тугади; кодни қайтадан юборинг',
      ru: 'Попытки исчерпаны; отправьте код заново',
      en: 'No attempts left; send a new code',
    },
  },
  binding_sms_rate_limited: {
    status: 429,
    title: {
      'uz-Latn': "Bu fuqaro yoki raqamga juda ko'p kod yuborildi; {seconds} soniyadan keyin qayta urinib ko'ring",
      'uz-Cyrl': 'Бу фуқаро ёки рақамга жуда кўп код юборилди; {seconds} сониядан кейин қайта уриниб кўринг',
      ru: 'Этому гражданину или на этот номер отправлено слишком много кодов; повторите через {seconds} с',
      en: 'Too many codes were sent to this citizen or number; try again in {seconds} s',
    },
  },
  invitation_invalid: {
    status: 400,
    title: {
      'uz-Latn': "Ro'yxatdan o'tish havolasi yaroqsiz yoki muddati tugagan",
      'uz-Cyrl': 'Рўйхатдан ўтиш ҳаволаси яроқсиз ёки муддати тугаган',
      ru: 'Ссылка для регистрации недействительна или устарела',
      en: 'The registration link is invalid, used or expired',
    },
  },
  webauthn_failed: {
    status: 401,
    title: {
      'uz-Latn': "Kalit orqali kirish amalga oshmadi",
      'uz-Cyrl': 'Калит орқали кириш амалга ошмади',
      ru: 'Не удалось войти с ключом доступа',
      en: 'Passkey sign-in failed',
    },
  },
  passkey_registration_failed: {
    status: 400,
    title: {
      'uz-Latn': "Kirish kalitini ro'yxatdan o'tkazib bo'lmadi",
      'uz-Cyrl': 'Кириш калитини рўйхатдан ўтказиб бўлмади',
      ru: 'Не удалось зарегистрировать ключ доступа',
      en: 'The passkey could not be registered',
    },
  },
  operator_disabled: {
    status: 403,
    title: {
      'uz-Latn': "Operator hisobi o'chirilgan",
      'uz-Cyrl': 'Оператор ҳисоби ўчирилган',
      ru: 'Учётная запись оператора отключена',
      en: 'The operator account is disabled',
    },
  },
  operator_self_change: {
    status: 409,
    title: {
      'uz-Latn': "O'zingizni o'chira yoki qayta taklif qila olmaysiz; boshqa administratorga murojaat qiling",
      'uz-Cyrl': 'Ўзингизни ўчира ёки қайта таклиф қила олмайсиз; бошқа администраторга мурожаат қилинг',
      ru: 'Нельзя отключить или повторно пригласить себя; обратитесь к другому администратору',
      en: 'You cannot disable or re-invite yourself; ask another administrator',
    },
  },
  office_unknown: {
    status: 400,
    title: {
      'uz-Latn': 'Bunday faol idora yoʻq',
      'uz-Cyrl': 'Бундай фаол идора йўқ',
      ru: 'Нет такого действующего офиса',
      en: 'No such active office',
    },
  },
  csrf_failed: {
    status: 403,
    title: {
      'uz-Latn': "So'rov himoya belgisi yo'q yoki noto'g'ri",
      'uz-Cyrl': 'Сўров ҳимоя белгиси йўқ ёки нотўғри',
      ru: 'Отсутствует или неверен токен защиты запроса',
      en: 'The CSRF token is missing or wrong',
    },
  },
});
