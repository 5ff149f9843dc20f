import { useTranslate } from '../shared/i18n.tsx';
import { consoleText, type ConsoleKey } from './messages.ts';
import { enrollmentText, type EnrollmentKey } from './enrollment-text.ts';

/**
 * The name of an audit action in the reader's language. Every action the server writes has
 * one (the enrollment module's in messages.ts, the other modules' in enrollment-text.ts); an
 * action added later without a name shows its code rather than nothing.
 */
export function useAuditActionLabel(): (action: string) => string {
  const t = useTranslate(consoleText);
  const te = useTranslate(enrollmentText);
  return (action: string) => {
    const key = `action_${action}`;
    if (key in consoleText.en) return t(key as ConsoleKey);
    if (key in enrollmentText.en) return te(key as EnrollmentKey);
    return action;
  };
}
