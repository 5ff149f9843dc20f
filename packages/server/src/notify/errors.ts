import { defineErrors } from '../platform/errors.ts';

export const NotifyErrors = defineErrors({
  push_target_invalid: {
    status: 400,
    title: {
      'uz-Latn': "Push-obuna ma'lumotlari noto'g'ri",
      'uz-Cyrl': 'Push-обуна маълумотлари нотўғри',
      ru: 'Некорректные данные push-подписки',
      en: 'The push subscription is not valid',
    },
  },
  recipient_invalid: {
    status: 400,
    title: {
      'uz-Latn': "Qabul qiluvchi telefon raqami noto'g'ri",
      'uz-Cyrl': 'Қабул қилувчи телефон рақами нотўғри',
      ru: 'Некорректный номер получателя',
      en: 'The recipient phone number is not valid',
    },
  },
});
