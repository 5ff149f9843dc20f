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
  client_version_conflict: {
    status: 412,
    title: {
      'uz-Latn': "Xizmat (mijoz) ma'lumotlari siz ochganingizdan keyin o'zgargan: qayta yuklab, o'zgartirishlarni yana kiriting",
      'uz-Cyrl': 'Хизмат (мижоз) маълумотлари сиз очганингиздан кейин ўзгарган: қайта юклаб, ўзгартиришларни яна киритинг',
      ru: 'Данные сервиса (клиента) изменились после того, как вы их открыли: загрузите их заново и внесите изменения ещё раз',
      en: 'The relying party changed after you loaded it: reload it and make your changes again',
    },
  },
  client_precondition_required: {
    status: 428,
    title: {
      'uz-Latn': "O'zgartirish qaysi versiyaga asoslanganini ko'rsating (If-Match)",
      'uz-Cyrl': 'Ўзгартириш қайси версияга асосланганини кўрсатинг (If-Match)',
      ru: 'Укажите версию, на основе которой сделано изменение (If-Match)',
      en: 'Name the version your change is based on (If-Match)',
    },
  },
});
