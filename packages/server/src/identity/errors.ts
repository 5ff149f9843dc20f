import { defineErrors } from '../platform/errors.ts';

export const IdentityErrors = defineErrors({
  pinfl_wrong_length: {
    status: 400,
    title: {
      'uz-Latn': "JShShIR 14 ta raqamdan iborat bo'lishi kerak",
      'uz-Cyrl': 'ЖШШИР 14 та рақамдан иборат бўлиши керак',
      ru: 'ПИНФЛ должен состоять из 14 цифр',
      en: 'A PINFL has exactly 14 digits',
    },
  },
  pinfl_not_digits: {
    status: 400,
    title: {
      'uz-Latn': "JShShIR faqat raqamlardan iborat bo'lishi kerak",
      'uz-Cyrl': 'ЖШШИР фақат рақамлардан иборат бўлиши керак',
      ru: 'ПИНФЛ должен содержать только цифры',
      en: 'A PINFL contains only digits',
    },
  },
  pinfl_bad_century_digit: {
    status: 400,
    title: {
      'uz-Latn': "JShShIRning birinchi raqami 3, 4, 5 yoki 6 bo'lishi kerak",
      'uz-Cyrl': 'ЖШШИРнинг биринчи рақами 3, 4, 5 ёки 6 бўлиши керак',
      ru: 'Первая цифра ПИНФЛ должна быть 3, 4, 5 или 6',
      en: 'The first digit of a PINFL must be 3, 4, 5 or 6',
    },
  },
  pinfl_bad_birth_date: {
    status: 400,
    title: {
      'uz-Latn': "JShShIRdagi tug'ilgan sana haqiqiy sana emas",
      'uz-Cyrl': 'ЖШШИРдаги туғилган сана ҳақиқий сана эмас',
      ru: 'Дата рождения в ПИНФЛ не является реальной датой',
      en: 'The birth date inside the PINFL is not a real date',
    },
  },
  pinfl_birth_date_future: {
    status: 400,
    title: {
      'uz-Latn': "JShShIRdagi tug'ilgan sana hali kelmagan",
      'uz-Cyrl': 'ЖШШИРдаги туғилган сана ҳали келмаган',
      ru: 'Дата рождения в ПИНФЛ ещё не наступила',
      en: 'The birth date inside the PINFL is in the future',
    },
  },
  pinfl_check_digit_mismatch: {
    status: 400,
    title: {
      'uz-Latn': "JShShIRning nazorat raqami noto'g'ri",
      'uz-Cyrl': 'ЖШШИРнинг назорат рақами нотўғри',
      ru: 'Неверная контрольная цифра ПИНФЛ',
      en: 'The PINFL check digit is wrong',
    },
  },
  phone_malformed: {
    status: 400,
    title: {
      'uz-Latn': "Telefon raqami noto'g'ri yozilgan",
      'uz-Cyrl': 'Телефон рақами нотўғри ёзилган',
      ru: 'Номер телефона записан неверно',
      en: 'The phone number is malformed',
    },
  },
  phone_landline: {
    status: 400,
    title: {
      'uz-Latn': "Bu statsionar telefon raqami; mobil raqam kerak",
      'uz-Cyrl': 'Бу стационар телефон рақами; мобил рақам керак',
      ru: 'Это стационарный номер; нужен мобильный',
      en: 'This is a landline number; a mobile number is needed',
    },
  },
  phone_unknown_operator: {
    status: 400,
    title: {
      'uz-Latn': "Bu prefiks hech bir mobil operatorga tegishli emas",
      'uz-Cyrl': 'Бу префикс ҳеч бир мобил операторга тегишли эмас',
      ru: 'Этот префикс не принадлежит ни одному мобильному оператору',
      en: 'No mobile operator uses this prefix',
    },
  },
  citizen_not_in_registry: {
    status: 404,
    title: {
      'uz-Latn': "Aholi reyestrida bunday shaxs topilmadi",
      'uz-Cyrl': 'Аҳоли реестрида бундай шахс топилмади',
      ru: 'Человек не найден в реестре населения',
      en: 'The population registry does not know this person',
    },
  },
  registry_unavailable: {
    status: 503,
    title: {
      'uz-Latn': 'Aholi reyestri javob bermayapti, keyinroq urinib koʻring',
      'uz-Cyrl': 'Аҳоли реестри жавоб бермаяпти, кейинроқ уриниб кўринг',
      ru: 'Реестр населения не отвечает, повторите позже',
      en: 'The population registry is not answering; try again later',
    },
  },
  registry_answer_invalid: {
    status: 502,
    title: {
      'uz-Latn': "Aholi reyestri noto'g'ri javob berdi; keyinroq urinib ko'ring yoki qo'llab-quvvatlash xizmatiga xabar bering",
      'uz-Cyrl': 'Аҳоли реестри нотўғри жавоб берди; кейинроқ уриниб кўринг ёки қўллаб-қувватлаш хизматига хабар беринг',
      ru: 'Реестр населения дал некорректный ответ; повторите позже или сообщите в поддержку',
      en: 'The population registry gave an invalid answer; try again later or tell support',
    },
  },
  document_expired: {
    status: 422,
    title: {
      'uz-Latn': "Hujjatning amal qilish muddati tugagan",
      'uz-Cyrl': 'Ҳужжатнинг амал қилиш муддати тугаган',
      ru: 'Срок действия документа истёк',
      en: 'The identity document has expired',
    },
  },
  document_not_of_citizen: {
    status: 422,
    title: {
      'uz-Latn': "Bu hujjat ushbu fuqaroga tegishli emas",
      'uz-Cyrl': 'Бу ҳужжат ушбу фуқарога тегишли эмас',
      ru: 'Этот документ не принадлежит данному гражданину',
      en: 'This document does not belong to this citizen',
    },
  },
});
