import type { Locale } from './i18n.tsx';

/** An RFC 9457 problem document from the server; screens branch on `code`. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: ReadonlyArray<{ field: string; code: string; message: string }>;
  constructor(status: number, body: Record<string, unknown>) {
    const title = typeof body.title === 'string' ? body.title : `HTTP ${status}`;
    super(title);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : 'http_error';
    this.title = title;
    this.detail = typeof body.detail === 'string' ? body.detail : undefined;
    this.errors = Array.isArray(body.errors) ? (body.errors as ApiProblem['errors']) : [];
  }
}

export interface ApiOptions {
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly body?: unknown;
  readonly locale: Locale;
  /** The value for `x-tasdiq-csrf`; state-changing calls made with a session need it. */
  readonly csrf?: string | undefined;
  /** Further request headers (a precondition such as `if-match`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** Same-origin JSON call; a non-2xx answer throws an ApiProblem with the server's own text. */
export async function api<T>(path: string, options: ApiOptions): Promise<T> {
  const headers: Record<string, string> = { ...options.headers, accept: 'application/json', 'accept-language': options.locale };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.csrf) headers['x-tasdiq-csrf'] = options.csrf;
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiProblem(0, { code: 'network_error', title: (error as Error).message });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page: the status alone still tells what happened.
    body = null;
  }
  if (!response.ok) throw new ApiProblem(response.status, (body as Record<string, unknown>) ?? {});
  return body as T;
}
