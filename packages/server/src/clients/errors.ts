import { defineErrors } from '../platform/errors.ts';

export const ClientErrors = defineErrors({
  client_invalid: {
    status: 400,
    title: {
      'uz-Latn': "Xizmat (mijoz) ma'lumotlari noto'g'ri",
      'uz-Cyrl': 'Хизмат (мижоз) маълумотлари нотўғри',
      ru: 'Некорректные данные сервиса (клиента)',
      en: 'The relying party registration is not valid',
    },
  },
  client_exists: {
    status: 409,
    title: {
      'uz-Latn': "Bunday client_id bilan xizmat allaqachon ro'yxatdan o'tgan",
      'uz-Cyrl': 'Бундай client_id билан хизмат аллақачон рўйхатдан ўтган',
      ru: 'Сервис с таким client_id уже зарегистрирован',
      en: 'A relying party with this client_id is already registered',
    },
  },
  client_not_found: {
    status: 404,
    title: {
      'uz-Latn': 'Xizmat (mijoz) topilmadi',
      'uz-Cyrl': 'Хизмат (мижоз) топилмади',
      ru: 'Сервис (клиент) не найден',
      en: 'Relying party not found',
    },
  },
});
