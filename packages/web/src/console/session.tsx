import { createContext, useCallback, useContext, type ReactNode } from 'react';
import { api, ApiProblem } from '../shared/api.ts';
import { useLocale, type Locale } from '../shared/i18n.tsx';
import type { Session } from './types.ts';

export interface ConsoleState {
  readonly development: boolean;
  readonly session: Session | null;
  setSession(session: Session | null): void;
}

const ConsoleContext = createContext<ConsoleState | null>(null);

export function ConsoleProvider({ value, children }: { value: ConsoleState; children: ReactNode }) {
  return <ConsoleContext.Provider value={value}>{children}</ConsoleContext.Provider>;
}

export function useConsole(): ConsoleState {
  const state = useContext(ConsoleContext);
  if (!state) throw new Error('useConsole outside ConsoleProvider');
  return state;
}

/**
 * API calls as the signed-in operator: the language, the CSRF header, and an expired session
 * sending the operator back to sign-in instead of leaving a screen of failing buttons.
 */
export function useOperatorApi() {
  const { locale } = useLocale();
  const { session, setSession } = useConsole();
  return useCallback(
    async <T,>(path: string, body?: unknown): Promise<T> => {
      try {
        return await api<T>(path, { locale, body, csrf: session?.csrfToken });
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 401 && error.code === 'unauthorized') setSession(null);
        throw error;
      }
    },
    [locale, session, setSession],
  );
}

/** The full session (with the office's name) right after a sign-in ceremony answered. */
export async function sessionAfterSignIn(answer: Session, locale: Locale): Promise<Session> {
  try {
    return await api<Session>('/api/v1/operator/session', { locale });
  } catch {
    // The ceremony's own answer is enough to work with; the office name is a nicety.
    return answer;
  }
}
