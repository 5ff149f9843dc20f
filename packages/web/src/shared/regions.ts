import type { Locale } from './i18n.tsx';

/** The 14 first-level subdivisions of Uzbekistan (ISO 3166-2:UZ), as the offices API uses them. */
export const REGIONS: Readonly<Record<string, Readonly<Record<Locale, string>>>> = {
  'UZ-TK': { 'uz-Latn': 'Toshkent shahri', 'uz-Cyrl': 'Тошкент шаҳри', ru: 'город Ташкент', en: 'Tashkent City' },
  'UZ-TO': { 'uz-Latn': 'Toshkent viloyati', 'uz-Cyrl': 'Тошкент вилояти', ru: 'Ташкентская область', en: 'Tashkent Region' },
  'UZ-AN': { 'uz-Latn': 'Andijon viloyati', 'uz-Cyrl': 'Андижон вилояти', ru: 'Андижанская область', en: 'Andijan Region' },
  'UZ-BU': { 'uz-Latn': 'Buxoro viloyati', 'uz-Cyrl': 'Бухоро вилояти', ru: 'Бухарская область', en: 'Bukhara Region' },
  'UZ-FA': { 'uz-Latn': "Farg'ona viloyati", 'uz-Cyrl': 'Фарғона вилояти', ru: 'Ферганская область', en: 'Fergana Region' },
  'UZ-JI': { 'uz-Latn': 'Jizzax viloyati', 'uz-Cyrl': 'Жиззах вилояти', ru: 'Джизакская область', en: 'Jizzakh Region' },
  'UZ-QA': { 'uz-Latn': 'Qashqadaryo viloyati', 'uz-Cyrl': 'Қашқадарё вилояти', ru: 'Кашкадарьинская область', en: 'Kashkadarya Region' },
  'UZ-XO': { 'uz-Latn': 'Xorazm viloyati', 'uz-Cyrl': 'Хоразм вилояти', ru: 'Хорезмская область', en: 'Khorezm Region' },
  'UZ-NG': { 'uz-Latn': 'Namangan viloyati', 'uz-Cyrl': 'Наманган вилояти', ru: 'Наманганская область', en: 'Namangan Region' },
  'UZ-NW': { 'uz-Latn': 'Navoiy viloyati', 'uz-Cyrl': 'Навоий вилояти', ru: 'Навоийская область', en: 'Navoiy Region' },
  'UZ-SA': { 'uz-Latn': 'Samarqand viloyati', 'uz-Cyrl': 'Самарқанд вилояти', ru: 'Самаркандская область', en: 'Samarkand Region' },
  'UZ-SU': { 'uz-Latn': 'Surxondaryo viloyati', 'uz-Cyrl': 'Сурхондарё вилояти', ru: 'Сурхандарьинская область', en: 'Surkhandarya Region' },
  'UZ-SI': { 'uz-Latn': 'Sirdaryo viloyati', 'uz-Cyrl': 'Сирдарё вилояти', ru: 'Сырдарьинская область', en: 'Syrdarya Region' },
  'UZ-QR': {
    'uz-Latn': "Qoraqalpog'iston Respublikasi",
    'uz-Cyrl': 'Қорақалпоғистон Республикаси',
    ru: 'Республика Каракалпакстан',
    en: 'Republic of Karakalpakstan',
  },
}
