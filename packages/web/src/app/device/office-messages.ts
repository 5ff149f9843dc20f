import type { Catalog } from '../../shared/i18n.tsx';

export type OfficeKey =
  | 'officesTitle' | 'officesEmpty' | 'officesFailed'
  | 'action_created' | 'action_binding_started' | 'action_phone_bound' | 'action_rebind_started' | 'action_phone_rebound'
  | 'action_activation_code_issued' | 'action_suspended' | 'action_resumed' | 'action_revoked' | 'action_other';

export const officeText: Catalog<OfficeKey> = {
  'uz-Latn': {
    officesTitle: "Meni ro'yxatga olgan va o'zgartirgan idoralar",
    officesEmpty: "Hali yozuv yo'q",
    officesFailed: "Idoralar tarixini olib bo'lmadi: {reason}",
    action_created: "Ro'yxatga olindi",
    action_binding_started: "Telefon ulash boshlandi",
    action_phone_bound: 'Telefon ulandi',
    action_rebind_started: "Telefonni almashtirish boshlandi",
    action_phone_rebound: 'Telefon almashtirildi',
    action_activation_code_issued: 'Faollashtirish kodi berildi',
    action_suspended: "To'xtatildi",
    action_resumed: 'Qayta tiklandi',
    action_revoked: 'Bekor qilindi',
    action_other: "O'zgartirildi",
  },
  'uz-Cyrl': {
    officesTitle: 'Мени рўйхатга олган ва ўзгартирган идоралар',
    officesEmpty: 'Ҳали ёзув йўқ',
    officesFailed: 'Идоралар тарихини олиб бўлмади: {reason}',
    action_created: 'Рўйхатга олинди',
    action_binding_started: 'Телефон улаш бошланди',
    action_phone_bound: 'Телефон уланди',
    action_rebind_started: 'Телефонни алмаштириш бошланди',
    action_phone_rebound: 'Телефон алмаштирилди',
    action_activation_code_issued: 'Фаоллаштириш коди берилди',
    action_suspended: 'Тўхтатилди',
    action_resumed: 'Қайта тикланди',
    action_revoked: 'Бекор қилинди',
    action_other: 'Ўзгартирилди',
  },
  ru: {
    officesTitle: 'Где меня регистрировали и меняли данные',
    officesEmpty: 'Записей пока нет',
    officesFailed: 'Не удалось получить историю: {reason}',
    action_created: 'Регистрация',
    action_binding_started: 'Начата привязка телефона',
    action_phone_bound: 'Телефон привязан',
    action_rebind_started: 'Начата смена телефона',
    action_phone_rebound: 'Телефон заменён',
    action_activation_code_issued: 'Выдан код активации',
    action_suspended: 'Приостановлено',
    action_resumed: 'Возобновлено',
    action_revoked: 'Отозвано',
    action_other: 'Изменение',
  },
  en: {
    officesTitle: 'Offices that enrolled or changed me',
    officesEmpty: 'Nothing recorded yet',
    officesFailed: 'Could not load the office history: {reason}',
    action_created: 'Enrolled',
    action_binding_started: 'Phone binding started',
    action_phone_bound: 'Phone bound',
    action_rebind_started: 'Phone change started',
    action_phone_rebound: 'Phone changed',
    action_activation_code_issued: 'Activation code issued',
    action_suspended: 'Suspended',
    action_resumed: 'Resumed',
    action_revoked: 'Revoked',
    action_other: 'Changed',
  },
};
