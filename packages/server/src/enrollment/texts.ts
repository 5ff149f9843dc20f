import { ApiError, CommonErrors, type LocalizedText } from '../platform/errors.ts';
import type { Translations } from '../platform/i18n.ts';
import { EnrollmentErrors } from './errors.ts';

/**
 * The precise reasons this module gives in `detail`, in every language: the console shows
 * them to operators as they are, so none may be English only.
 */
export const EnrollmentTexts = {
  citizenUnknown: {
    'uz-Latn': "Bunday identifikatorli ro'yxatdan o'tgan fuqaro yo'q.",
    'uz-Cyrl': 'Бундай идентификаторли рўйхатдан ўтган фуқаро йўқ.',
    ru: 'Нет зарегистрированного гражданина с таким идентификатором.',
    en: 'No enrolled citizen with this id.',
  },
  enrollmentSuspended: {
    'uz-Latn': "Ro'yxat to'xtatilgan.",
    'uz-Cyrl': 'Рўйхат тўхтатилган.',
    ru: 'Регистрация приостановлена.',
    en: 'The enrollment is suspended.',
  },
  enrollmentRevoked: {
    'uz-Latn': "Ro'yxat bekor qilingan.",
    'uz-Cyrl': 'Рўйхат бекор қилинган.',
    ru: 'Регистрация отозвана.',
    en: 'The enrollment is revoked.',
  },
  enrollmentChanged: {
    'uz-Latn': "Bu orada ro'yxat o'zgardi; sahifani yangilab, qayta urinib ko'ring.",
    'uz-Cyrl': 'Бу орада рўйхат ўзгарди; саҳифани янгилаб, қайта уриниб кўринг.',
    ru: 'Регистрация тем временем изменилась; обновите страницу и повторите.',
    en: 'The enrollment changed meanwhile; reload and try again.',
  },
  idCardExpired: {
    'uz-Latn': 'ID-kartaning amal qilish muddati {expiresOn} kuni tugagan.',
    'uz-Cyrl': 'ID-картанинг амал қилиш муддати {expiresOn} куни тугаган.',
    ru: 'Срок действия ID-карты истёк {expiresOn}.',
    en: 'The ID card expired on {expiresOn}.',
  },
  passportExpired: {
    'uz-Latn': 'Pasportning amal qilish muddati {expiresOn} kuni tugagan.',
    'uz-Cyrl': 'Паспортнинг амал қилиш муддати {expiresOn} куни тугаган.',
    ru: 'Срок действия паспорта истёк {expiresOn}.',
    en: 'The passport expired on {expiresOn}.',
  },
  noRegistry: {
    'uz-Latn': 'Aholi reyestri sozlanmagan (TASDIQ_REGISTRY).',
    'uz-Cyrl': 'Аҳоли реестри созланмаган (TASDIQ_REGISTRY).',
    ru: 'Реестр населения не настроен (TASDIQ_REGISTRY).',
    en: 'No population registry is configured (TASDIQ_REGISTRY).',
  },
  documentHeldByAnother: {
    'uz-Latn': "Bu shaxsning hujjati bu yerda boshqa fuqaroniki deb yozilgan; qo'llab-quvvatlash xizmatiga murojaat qiling.",
    'uz-Cyrl': 'Бу шахснинг ҳужжати бу ерда бошқа фуқароники деб ёзилган; қўллаб-қувватлаш хизматига мурожаат қилинг.',
    ru: 'Документ этого человека записан здесь за другим гражданином; обратитесь в поддержку.',
    en: 'A document of this person is recorded here for another citizen; contact support.',
  },
  rolesNeeded: {
    'uz-Latn': 'Buning uchun quyidagi rollardan biri kerak: {roles}.',
    'uz-Cyrl': 'Бунинг учун қуйидаги роллардан бири керак: {roles}.',
    ru: 'Для этого нужна одна из ролей: {roles}.',
    en: 'This needs one of the roles: {roles}.',
  },
  auditOneCitizen: {
    'uz-Latn': "Operatorlar va notariuslar audit jurnalini bitta fuqaro bo'yicha o'qiydi (citizenId).",
    'uz-Cyrl': 'Операторлар ва нотариуслар аудит журналини битта фуқаро бўйича ўқийди (citizenId).',
    ru: 'Операторы и нотариусы читают журнал аудита по одному гражданину (citizenId).',
    en: 'Operators and notaries read the audit log one citizen at a time (citizenId).',
  },
  officeUnknown: {
    'uz-Latn': '"{officeId}" degan faol idora yoʻq.',
    'uz-Cyrl': '"{officeId}" деган фаол идора йўқ.',
    ru: 'Нет действующего офиса «{officeId}».',
    en: 'No active office "{officeId}".',
  },
  signInChallengeGone: {
    'uz-Latn': "Kirish so'rovi yo'q, ishlatilgan yoki muddati o'tgan; qaytadan boshlang.",
    'uz-Cyrl': 'Кириш сўрови йўқ, ишлатилган ёки муддати ўтган; қайтадан бошланг.',
    ru: 'Запрос на вход отсутствует, уже использован или устарел; начните заново.',
    en: 'The sign-in challenge is missing, used or expired; start again.',
  },
  registrationChallengeGone: {
    'uz-Latn': "Ro'yxatdan o'tish so'rovi yo'q, ishlatilgan yoki muddati o'tgan; qaytadan boshlang.",
    'uz-Cyrl': 'Рўйхатдан ўтиш сўрови йўқ, ишлатилган ёки муддати ўтган; қайтадан бошланг.',
    ru: 'Запрос на регистрацию отсутствует, уже использован или устарел; начните заново.',
    en: 'The registration challenge is missing, used or expired; start again.',
  },
  passkeyUnknown: {
    'uz-Latn': "Bu kirish kaliti ro'yxatdan o'tkazilmagan.",
    'uz-Cyrl': 'Бу кириш калити рўйхатдан ўтказилмаган.',
    ru: 'Этот ключ доступа не зарегистрирован.',
    en: 'This passkey is not registered.',
  },
  passkeyOtherUser: {
    'uz-Latn': 'Bu kirish kaliti boshqa foydalanuvchiniki.',
    'uz-Cyrl': 'Бу кириш калити бошқа фойдаланувчиники.',
    ru: 'Этот ключ доступа принадлежит другому пользователю.',
    en: 'The passkey belongs to another user.',
  },
  passkeyNotVerified: {
    'uz-Latn': "Brauzerning javobi tasdiqlanmadi (manzil, imzo yoki foydalanuvchini tekshirish). Qaytadan urinib ko'ring.",
    'uz-Cyrl': 'Браузернинг жавоби тасдиқланмади (манзил, имзо ёки фойдаланувчини текшириш). Қайтадан уриниб кўринг.',
    ru: 'Ответ браузера не прошёл проверку (адрес, подпись или проверка пользователя). Повторите попытку.',
    en: 'The browser’s answer did not verify (origin, signature or user verification). Try again.',
  },
} as const satisfies Record<string, Translations>;

export function localized(text: Translations, params?: Record<string, string | number>): { localizedDetail: LocalizedText } {
  return { localizedDetail: params ? { text, params } : { text } };
}

export function notFoundCitizen(): ApiError {
  return new ApiError(CommonErrors.not_found, localized(EnrollmentTexts.citizenUnknown));
}

export function notActive(status: string): ApiError {
  return new ApiError(EnrollmentErrors.enrollment_not_active, localized(status === 'suspended' ? EnrollmentTexts.enrollmentSuspended : EnrollmentTexts.enrollmentRevoked));
}
