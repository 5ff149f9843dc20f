import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../platform/db/index.ts';
import { ApiError, CommonErrors } from '../platform/errors.ts';
import type { AppContext } from '../platform/module.ts';
import { EnrollmentErrors } from './errors.ts';
import type { Operator, OperatorRole } from './schema.ts';
import { newId, randomToken, secretEquals, sha256 } from './secrets.ts';
import { EnrollmentTexts, localized } from './texts.ts';

export const SESSION_COOKIE = 'tasdiq_op';
export const CSRF_HEADER = 'x-tasdiq-csrf';
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in operator, set by `requireOperator`. */
    operator?: Operator;
  }
}

export interface NewSession {
  readonly token: string;
  readonly csrfToken: string;
}

/**
 * The CSRF token is derived from the session token rather than stored in clear: the server
 * keeps only its hash, the console keeps it in memory and gets it again from
 * `GET /api/v1/operator/session` after a reload.
 */
function csrfFor(token: string): string {
  return sha256(`csrf:${token}`);
}

export async function createSession(db: Db, operatorId: string, now: number): Promise<NewSession> {
  const token = randomToken();
  const csrfToken = csrfFor(token);
  await db
    .insertInto('operator_sessions')
    .values({
      id: newId('ops'),
      token_hash: sha256(token),
      csrf_hash: sha256(csrfToken),
      operator_id: operatorId,
      created_at: now,
      last_seen_at: now,
      expires_at: now + SESSION_ABSOLUTE_MS,
      ended_at: null,
    })
    .execute();
  return { token, csrfToken };
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_ABSOLUTE_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

export function readSessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export interface SessionState {
  readonly operator: Operator;
  readonly csrfToken: string;
  readonly sessionId: string;
}

/** Resolves the cookie to a live session and slides its idle expiry. */
export async function loadSession(db: Db, token: string, now: number): Promise<SessionState | undefined> {
  const session = await db.selectFrom('operator_sessions').selectAll().where('token_hash', '=', sha256(token)).executeTakeFirst();
  if (!session || session.ended_at !== null || session.expires_at <= now || session.last_seen_at + SESSION_IDLE_MS <= now) {
    return undefined;
  }
  const operator = await db.selectFrom('operators').selectAll().where('id', '=', session.operator_id).executeTakeFirst();
  if (!operator || operator.status !== 'active') return undefined;
  // Sliding the idle window once a minute is enough and keeps reads from all being writes.
  if (now - session.last_seen_at > 60_000) {
    await db.updateTable('operator_sessions').set({ last_seen_at: now }).where('id', '=', session.id).execute();
  }
  return { operator, csrfToken: csrfFor(token), sessionId: session.id };
}

export async function endSession(db: Db, sessionId: string, now: number): Promise<void> {
  await db.updateTable('operator_sessions').set({ ended_at: now }).where('id', '=', sessionId).where('ended_at', 'is', null).execute();
}

export async function endOperatorSessions(db: Db, operatorId: string, now: number): Promise<void> {
  await db.updateTable('operator_sessions').set({ ended_at: now }).where('operator_id', '=', operatorId).where('ended_at', 'is', null).execute();
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * preHandler factory: a live session, a matching CSRF header on state changes, and one of the
 * roles. Runs before the body is acted on, so a refused request writes nothing.
 */
export function requireOperator(context: AppContext, roles?: readonly OperatorRole[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = readSessionToken(request);
    const state = token ? await loadSession(context.db, token, context.now()) : undefined;
    if (!state) throw new ApiError(CommonErrors.unauthorized);
    if (!SAFE_METHODS.has(request.method)) {
      const header = request.headers[CSRF_HEADER];
      if (typeof header !== 'string' || !secretEquals(header, state.csrfToken)) throw new ApiError(EnrollmentErrors.csrf_failed);
    }
    if (roles && !roles.includes(state.operator.role)) {
      throw new ApiError(CommonErrors.forbidden, localized(EnrollmentTexts.rolesNeeded, { roles: roles.join(', ') }));
    }
    request.operator = state.operator;
  };
}

export const ENROLLING_ROLES: readonly OperatorRole[] = ['operator', 'notary', 'supervisor', 'admin'];
export const SUPERVISING_ROLES: readonly OperatorRole[] = ['supervisor', 'admin'];
export const ADMIN_ROLES: readonly OperatorRole[] = ['admin'];
