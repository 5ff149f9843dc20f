import { defineErrors } from '../platform/errors.ts';

export const OidcErrors = defineErrors({
  signin_not_found: {
    status: 400,
    title: {
      'uz-Latn': "Kirish seansi topilmadi yoki muddati o'tgan. Xizmat sahifasidan qaytadan boshlang",
      'uz-Cyrl': 'Кириш сеанси топилмади ёки муддати ўтган. Хизмат саҳифасидан қайтадан бошланг',
      ru: 'Сеанс входа не найден или истёк. Начните заново на странице сервиса',
      en: 'The sign-in was not found or has expired. Start again from the service',
    },
  },
  consent_not_found: {
    status: 404,
    title: {
      'uz-Latn': 'Bu xizmat uchun rozilik topilmadi',
      'uz-Cyrl': 'Бу хизмат учун розилик топилмади',
      ru: 'Согласие для этого сервиса не найдено',
      en: 'No consent was found for this service',
    },
  },
});
