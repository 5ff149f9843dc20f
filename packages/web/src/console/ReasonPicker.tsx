import { useId, useState } from 'react';
import { LOCALES, LOCALE_NAMES, useTranslate, type Locale } from '../shared/i18n.tsx';
import { enrollmentText, STANDARD_REASONS, type EnrollmentKey, type ReasonStep } from './enrollment-text.ts';

export interface ReasonChoice {
  /** A standard reason's key, or `other` for free text. */
  readonly choice: EnrollmentKey | 'other';
  readonly text: string;
}

/** The first standard reason, preselected: the usual case costs the operator nothing. */
export function defaultReason(step: ReasonStep): ReasonChoice {
  return { choice: STANDARD_REASONS[step][0], text: '' };
}

/**
 * A short list of standard reasons plus "other" with free text, for the steps the audit log
 * records a reason for. The chosen reason is sent in the operator's words (the standard text
 * in their language, or what they wrote), as reasons for suspending or revoking are.
 */
export function useReasonPicker(step: ReasonStep) {
  const t = useTranslate(enrollmentText);
  const [reason, setReason] = useState<ReasonChoice>(() => defaultReason(step));
  const [missing, setMissing] = useState(false);
  const ids = { select: useId(), hint: useId(), text: useId(), missing: useId() };

  /** The reason to send, or null (and the field marked) when "other" was left blank. */
  const value = (): string | null => {
    if (reason.choice !== 'other') return t(reason.choice);
    const text = reason.text.trim();
    setMissing(text.length === 0);
    if (text.length === 0) document.getElementById(ids.text)?.focus();
    return text.length > 0 ? text : null;
  };

  const element = (
    <div className="field">
      <label htmlFor={ids.select}>{t(`reasonFor_${step}`)}</label>
      <select
        id={ids.select}
        value={reason.choice}
        aria-describedby={ids.hint}
        onChange={(e) => {
          setMissing(false);
          setReason({ ...reason, choice: e.target.value as ReasonChoice['choice'] });
        }}
      >
        {STANDARD_REASONS[step].map((key) => (
          <option key={key} value={key}>
            {t(key)}
          </option>
        ))}
        <option value="other">{t('reasonOther')}</option>
      </select>
      <p id={ids.hint} className="hint">
        {t('reasonHint')}
      </p>
      {reason.choice === 'other' && (
        <>
          <label htmlFor={ids.text}>{t('reasonOtherText')}</label>
          <input
            id={ids.text}
            autoComplete="off"
            maxLength={500}
            value={reason.text}
            aria-invalid={missing}
            aria-describedby={missing ? ids.missing : undefined}
            onChange={(e) => setReason({ ...reason, text: e.target.value })}
          />
          {missing && (
            <p id={ids.missing} className="alert" role="alert">
              {t('reasonOtherMissing')}
            </p>
          )}
        </>
      )}
    </div>
  );
  return { element, value, reset: () => setReason(defaultReason(step)) };
}

/** The citizen's language for the SMS (not the console's); uz-Latn unless the operator picks another. */
export function useSmsLanguage() {
  const t = useTranslate(enrollmentText);
  const [language, setLanguage] = useState<Locale>('uz-Latn');
  const ids = { select: useId(), hint: useId() };
  const element = (
    <div className="field">
      <label htmlFor={ids.select}>{t('smsLanguage')}</label>
      <select id={ids.select} value={language} aria-describedby={ids.hint} onChange={(e) => setLanguage(e.target.value as Locale)}>
        {LOCALES.map((locale) => (
          <option key={locale} value={locale} lang={locale}>
            {LOCALE_NAMES[locale]}
          </option>
        ))}
      </select>
      <p id={ids.hint} className="hint">
        {t('smsLanguageHint')}
      </p>
    </div>
  );
  return { element, language };
}
