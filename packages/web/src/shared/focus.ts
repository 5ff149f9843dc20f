import { useEffect, useRef } from 'react';

/**
 * Moves keyboard and screen-reader focus to a page's heading when the page changes, so a
 * navigation is announced and Tab continues from the new content, as after a full page load.
 */
export function useFocusOnChange<T extends HTMLElement>(key: unknown) {
  const ref = useRef<T>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    ref.current?.focus();
  }, [key]);
  return ref;
}
