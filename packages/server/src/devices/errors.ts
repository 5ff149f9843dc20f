import { defineErrors } from '../platform/errors.ts';

export const DeviceErrors = defineErrors({
  activation_code_invalid: {
    status: 400,
    title: {
      'uz-Latn': "Faollashtirish kodi noto'g'ri, ishlatilgan yoki muddati o'tgan",
      'uz-Cyrl': 'Фаоллаштириш коди нотўғри, ишлатилган ёки муддати ўтган',
      ru: 'Код активации неверен, уже использован или истёк',
      en: 'The activation code is wrong, used or expired',
    },
  },
  device_key_invalid: {
    status: 400,
    title: {
      'uz-Latn': "Qurilma kaliti P-256 ochiq kaliti emas",
      'uz-Cyrl': 'Қурилма калити P-256 очиқ калити эмас',
      ru: 'Ключ устройства не является открытым ключом P-256',
      en: 'The device key is not a P-256 public key',
    },
  },
  device_proof_invalid: {
    status: 400,
    title: {
      'uz-Latn': "Kalitga egalik isboti noto'g'ri",
      'uz-Cyrl': 'Калитга эгалик исботи нотўғри',
      ru: 'Неверное доказательство владения ключом',
      en: 'The proof of key possession is invalid',
    },
  },
  device_user_verification_invalid: {
    status: 400,
    title: {
      'uz-Latn': 'PIN-kod yoki biometriya kaliti tasdiqlanmadi',
      'uz-Cyrl': 'PIN-код ёки биометрия калити тасдиқланмади',
      ru: 'Ключ проверки PIN-кода или биометрии не прошёл проверку',
      en: 'The PIN or biometric passkey could not be verified',
    },
  },
  device_user_verification_required: {
    status: 400,
    title: {
      'uz-Latn': "Bu qurilmada tasdiqlash uchun PIN-kod yoki biometriya tekshiruvi kerak",
      'uz-Cyrl': 'Бу қурилмада тасдиқлаш учун PIN-код ёки биометрия текшируви керак',
      ru: 'На этом устройстве для подтверждения нужна проверка PIN-кода или биометрии',
      en: 'This device confirms only with its PIN or biometric check',
    },
  },
  device_attestation_invalid: {
    status: 400,
    title: {
      'uz-Latn': 'Qurilma kalitlarining attestatsiyasi tasdiqlanmadi',
      'uz-Cyrl': 'Қурилма калитларининг аттестацияси тасдиқланмади',
      ru: 'Аттестация ключей устройства не прошла проверку',
      en: 'The key attestation of the device keys could not be verified',
    },
  },
  device_auth_missing: {
    status: 401,
    title: {
      'uz-Latn': "Qurilma imzosi sarlavhalari yo'q yoki noto'g'ri",
      'uz-Cyrl': 'Қурилма имзоси сарлавҳалари йўқ ёки нотўғри',
      ru: 'Заголовки подписи устройства отсутствуют или неверны',
      en: 'Device signature headers are missing or malformed',
    },
  },
  device_unknown: {
    status: 401,
    title: {
      'uz-Latn': 'Qurilma topilmadi',
      'uz-Cyrl': 'Қурилма топилмади',
      ru: 'Устройство не найдено',
      en: 'Unknown device',
    },
  },
  device_signature_invalid: {
    status: 401,
    title: {
      'uz-Latn': "Qurilma imzosi noto'g'ri",
      'uz-Cyrl': 'Қурилма имзоси нотўғри',
      ru: 'Неверная подпись устройства',
      en: 'The device signature is invalid',
    },
  },
  device_request_replayed: {
    status: 401,
    title: {
      'uz-Latn': "So'rov hisoblagichi eskirgan: so'rov takrorlangan",
      'uz-Cyrl': 'Сўров ҳисоблагичи эскирган: сўров такрорланган',
      ru: 'Счётчик запроса устарел: запрос повторён',
      en: 'The request counter is not new: the request was replayed',
    },
  },
  device_clock_skew: {
    status: 401,
    title: {
      'uz-Latn': "Qurilma soati server vaqtidan juda farq qiladi",
      'uz-Cyrl': 'Қурилма соати сервер вақтидан жуда фарқ қилади',
      ru: 'Часы устройства слишком расходятся с сервером',
      en: "The device clock is too far from the server's",
    },
  },
  device_revoked: {
    status: 403,
    title: {
      'uz-Latn': 'Qurilma bekor qilingan',
      'uz-Cyrl': 'Қурилма бекор қилинган',
      ru: 'Устройство отозвано',
      en: 'The device has been revoked',
    },
  },
  device_certificate_expired: {
    status: 403,
    title: {
      'uz-Latn': "Qurilma sertifikati muddati o'tgan",
      'uz-Cyrl': 'Қурилма сертификати муддати ўтган',
      ru: 'Срок действия сертификата устройства истёк',
      en: 'The device certificate has expired',
    },
  },
  device_renewal_not_due: {
    status: 409,
    title: {
      'uz-Latn': "Sertifikatlarni yangilash hali erta: muddati tugashiga {days} kundan kam qolganda yangilanadi",
      'uz-Cyrl': 'Сертификатларни янгилаш ҳали эрта: муддати тугашига {days} кундан кам қолганда янгиланади',
      ru: 'Обновлять сертификаты ещё рано: это можно сделать, когда до окончания срока останется меньше {days} дн.',
      en: 'Certificates can be renewed only in the last {days} days of their validity',
    },
  },
});
