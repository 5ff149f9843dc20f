import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** The console lives under /console/; routes below are written without the prefix. */
export const BASE = '/console';
const NAVIGATE_EVENT = 'tasdiq:navigate';
let navigated = false;

export interface Location {
  /** The path below /console, always starting with `/`. */
  readonly path: string;
  readonly query: URLSearchParams;
}

function current(): Location {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) || '/' : '/';
  return { path, query: new URLSearchParams(window.location.search) };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  navigated = true;
  if (options.replace) window.history.replaceState(null, '', BASE + to);
  else window.history.pushState(null, '', BASE + to);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** Whether the reader moved inside the console (then focus follows the new page's heading). */
export function hasNavigated(): boolean {
  return navigated;
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    const back = () => {
      navigated = true;
      update();
    };
    window.addEventListener(NAVIGATE_EVENT, update);
    window.addEventListener('popstate', back);
    return () => {
      window.removeEventListener(NAVIGATE_EVENT, update);
      window.removeEventListener('popstate', back);
    };
  }, []);
  return location;
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    // Let the browser open new tabs and windows itself.
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={BASE + to} onClick={click} {...rest} />;
}
