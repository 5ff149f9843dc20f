import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import { ConfigError, integerSetting, integerValue, type Config } from '../platform/config.ts';
import type { SmppRouteConfig } from './channels/smpp-connection.ts';
import type { HttpSmsConfig } from './channels/http-sms.ts';
import type { VapidConfig } from './channels/web-push.ts';
import type { FcmConfig } from './channels/fcm.ts';
import type { ApnsConfig } from './channels/apns.ts';
import { DEFAULT_WEBPUSH_HOSTS, isWebPushHostEntry, type WebPushPolicy } from './push-targets.ts';

export interface WorkerSettings {
  /** Run the outbox worker inside `serve` (TASDIQ_OUTBOX_WORKER=0 when `tasdiq worker` runs). */
  readonly enabled: boolean;
  readonly batchSize: number;
  /** How long a claimed message is ours; a worker that dies holds it at most this long. */
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly maxBackoffMs: number;
  readonly baseBackoffMs: number;
  /** Finished messages, their attempts and receipts are deleted after this long. */
  readonly retentionMs: number;
  /** `tasdiq worker` serves Prometheus metrics on this port when set (TASDIQ_WORKER_METRICS_PORT). */
  readonly metricsPort?: number | undefined;
  /** ...on this address (TASDIQ_WORKER_METRICS_HOST, 127.0.0.1). */
  readonly metricsHost?: string | undefined;
}

export interface NotifyConfig {
  /** Bearer token an SMS aggregator presents when it posts delivery receipts back. */
  readonly httpSmsReceiptToken?: string | undefined;
  /** Which transport carries `sms` messages: SMSC routes, an HTTP gateway, the dev inbox, or none. */
  readonly sms: 'smpp' | 'http' | 'dev' | 'none';
  readonly smppRoutes: readonly SmppRouteConfig[];
  readonly httpSms: HttpSmsConfig | undefined;
  readonly vapid: VapidConfig | undefined;
  readonly fcm: FcmConfig | undefined;
  readonly apns: ApnsConfig | undefined;
  /** Where Web Push subscriptions may point (TASDIQ_WEBPUSH_HOSTS; loopback in development). */
  readonly webPush: WebPushPolicy;
  readonly worker: WorkerSettings;
  readonly development: boolean;
}

const ROUTE_KEYS = new Set(['name', 'host', 'port', 'systemId', 'password', 'systemType', 'prefixes', 'mode', 'windowSize', 'ratePerSecond', 'sourceAddr', 'enquireLinkMs', 'responseTimeoutMs']);

function parseRoutes(raw: string | undefined, problems: string[]): SmppRouteConfig[] {
  if (!raw || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    problems.push(`TASDIQ_SMPP_ROUTES: not JSON (${(error as Error).message})`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    problems.push('TASDIQ_SMPP_ROUTES: expected a JSON array of routes');
    return [];
  }
  const routes: SmppRouteConfig[] = [];
  const names = new Set<string>();
  for (const [i, item] of parsed.entries()) {
    const where = `TASDIQ_SMPP_ROUTES[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`${where}: expected an object`);
      continue;
    }
    const r = item as Record<string, unknown>;
    for (const key of Object.keys(r)) if (!ROUTE_KEYS.has(key)) problems.push(`${where}: unknown key "${key}"`);
    const name = typeof r.name === 'string' && /^[a-z0-9_-]{1,32}$/.test(r.name) ? r.name : undefined;
    if (!name) problems.push(`${where}.name: expected 1-32 of a-z 0-9 _ -`);
    else if (names.has(name)) problems.push(`${where}.name: "${name}" is used twice`);
    else names.add(name);
    if (typeof r.host !== 'string' || r.host === '') problems.push(`${where}.host: required`);
    if (typeof r.systemId !== 'string' || r.systemId === '' || r.systemId.length > 15) problems.push(`${where}.systemId: 1-15 characters required`);
    if (typeof r.password !== 'string' || r.password.length > 8) problems.push(`${where}.password: a string of at most 8 characters required (SMPP 3.4)`);
    const prefixes = Array.isArray(r.prefixes) ? r.prefixes : [];
    if (prefixes.length === 0 || !prefixes.every((p) => typeof p === 'string' && /^\+\d{1,14}$/.test(p))) {
      problems.push(`${where}.prefixes: expected a non-empty list like ["+99890", "+99891"]`);
    }
    const mode = r.mode ?? 'transceiver';
    if (mode !== 'transceiver' && mode !== 'transmitter') problems.push(`${where}.mode: expected "transceiver" or "transmitter"`);
    routes.push({
      name: name ?? `route${i}`,
      host: String(r.host ?? ''),
      port: integerValue(`${where}.port`, r.port, 2775, 1, 65535, problems),
      systemId: String(r.systemId ?? ''),
      password: String(r.password ?? ''),
      systemType: typeof r.systemType === 'string' ? r.systemType : '',
      mode: mode as SmppRouteConfig['mode'],
      prefixes: prefixes as string[],
      windowSize: integerValue(`${where}.windowSize`, r.windowSize, 10, 1, 1000, problems),
      ratePerSecond: integerValue(`${where}.ratePerSecond`, r.ratePerSecond, 50, 1, 100_000, problems),
      sourceAddr: typeof r.sourceAddr === 'string' && r.sourceAddr !== '' ? r.sourceAddr.slice(0, 20) : 'Tasdiq',
      enquireLinkMs: integerValue(`${where}.enquireLinkMs`, r.enquireLinkMs, 30_000, 100, 600_000, problems),
      responseTimeoutMs: integerValue(`${where}.responseTimeoutMs`, r.responseTimeoutMs, 10_000, 100, 120_000, problems),
    });
  }
  return routes;
}

function readSecret(env: NodeJS.ProcessEnv, inline: string, file: string, problems: string[]): string | undefined {
  if (env[inline]) return env[inline]!.replace(/\\n/g, '\n');
  const path = env[file];
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${file}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

function url(name: string, value: string, problems: string[], options: { httpsOnly?: boolean } = {}): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
    if (options.httpsOnly && u.protocol !== 'https:') {
      problems.push(`${name}: expected an https URL outside development (what travels there holds one-time codes)`);
    }
  } catch {
    problems.push(`${name}: expected an http(s) URL, got "${value}"`);
  }
  return value;
}

/**
 * TASDIQ_WEBPUSH_HOSTS: comma-separated push-service hosts Web Push subscriptions may point
 * at (`fcm.googleapis.com`, `*.push.apple.com`, `127.0.0.1`, ...), replacing the defaults.
 * Development also allows loopback receivers without listing them.
 */
function parseWebPushHosts(raw: string | undefined, development: boolean, problems: string[]): WebPushPolicy {
  if (raw === undefined || raw.trim() === '') return { hosts: DEFAULT_WEBPUSH_HOSTS, allowLoopback: development };
  const hosts = raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  for (const host of hosts) {
    if (!isWebPushHostEntry(host)) problems.push(`TASDIQ_WEBPUSH_HOSTS: "${host}" is not a host name (like fcm.googleapis.com or *.push.apple.com; no scheme, port or path)`);
  }
  if (hosts.length === 0) problems.push('TASDIQ_WEBPUSH_HOSTS: lists no host');
  return { hosts, allowLoopback: development };
}

/** Where Web Push subscriptions may point, for modules that register targets (the devices routes). */
export function webPushPolicy(config: Config, env: NodeJS.ProcessEnv = process.env): WebPushPolicy {
  const problems: string[] = [];
  const policy = parseWebPushHosts(env.TASDIQ_WEBPUSH_HOSTS, config.development, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return policy;
}

/** A VAPID key pair as `web-push` takes it: an uncompressed P-256 point and a 32-byte scalar, base64url. */
function checkVapidKeys(publicKey: string, privateKey: string, problems: string[]): void {
  const pub = /^[A-Za-z0-9_-]+$/.test(publicKey) ? Buffer.from(publicKey, 'base64url') : Buffer.alloc(0);
  if (pub.length !== 65 || pub[0] !== 0x04) problems.push('TASDIQ_VAPID_PUBLIC_KEY: expected an uncompressed P-256 public key in base64url (87 characters)');
  const priv = /^[A-Za-z0-9_-]+$/.test(privateKey) ? Buffer.from(privateKey, 'base64url') : Buffer.alloc(0);
  if (priv.length !== 32) problems.push('TASDIQ_VAPID_PRIVATE_KEY: expected a 32-byte P-256 private key in base64url (43 characters)');
}

/**
 * VAPID keys identify this server to browsers' push services; they must stay the same or
 * every subscription breaks. In development they are generated once into the data dir.
 */
function vapidKeys(env: NodeJS.ProcessEnv, config: Config, problems: string[]): VapidConfig | undefined {
  const subject = env.TASDIQ_VAPID_SUBJECT ?? `mailto:admin@${new URL(config.publicUrl).hostname}`;
  if (!/^(mailto:|https:)/.test(subject)) problems.push('TASDIQ_VAPID_SUBJECT: expected a mailto: or https: URL');
  const publicKey = env.TASDIQ_VAPID_PUBLIC_KEY;
  const privateKey = env.TASDIQ_VAPID_PRIVATE_KEY;
  if (publicKey || privateKey) {
    if (!publicKey || !privateKey) {
      problems.push('TASDIQ_VAPID_PUBLIC_KEY and TASDIQ_VAPID_PRIVATE_KEY: set both or neither');
      return undefined;
    }
    checkVapidKeys(publicKey, privateKey, problems);
    return { subject, publicKey, privateKey };
  }
  if (!config.development) return undefined;
  const path = join(config.dataDir, 'vapid.json');
  if (!existsSync(path)) {
    mkdirSync(config.dataDir, { recursive: true });
    try {
      writeFileSync(path, JSON.stringify(webpush.generateVAPIDKeys()), { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } catch (error) {
      // Another process (serve beside a worker) wrote it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const keys = JSON.parse(readFileSync(path, 'utf8')) as { publicKey: string; privateKey: string };
  return { subject, publicKey: keys.publicKey, privateKey: keys.privateKey };
}

export function loadNotifyConfig(config: Config, env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const problems: string[] = [];
  const smppRoutes = parseRoutes(env.TASDIQ_SMPP_ROUTES, problems);
  const httpSms: HttpSmsConfig | undefined = env.TASDIQ_SMS_HTTP_URL
    ? {
        url: url('TASDIQ_SMS_HTTP_URL', env.TASDIQ_SMS_HTTP_URL, problems, { httpsOnly: !config.development }),
        token: env.TASDIQ_SMS_HTTP_TOKEN || undefined,
        timeoutMs: integerSetting(env, 'TASDIQ_SMS_HTTP_TIMEOUT_MS', 10_000, 100, 120_000, problems),
      }
    : undefined;
  const requested = env.TASDIQ_SMS_CHANNEL ?? 'auto';
  let sms: NotifyConfig['sms'];
  if (requested === 'auto') sms = smppRoutes.length > 0 ? 'smpp' : httpSms ? 'http' : config.development ? 'dev' : 'none';
  else if (requested === 'smpp' || requested === 'http' || requested === 'dev' || requested === 'none') sms = requested;
  else {
    problems.push(`TASDIQ_SMS_CHANNEL: expected auto, smpp, http, dev or none, got "${requested}"`);
    sms = 'none';
  }
  if (sms === 'smpp' && smppRoutes.length === 0) problems.push('TASDIQ_SMS_CHANNEL=smpp needs TASDIQ_SMPP_ROUTES');
  if (sms === 'http' && !httpSms) problems.push('TASDIQ_SMS_CHANNEL=http needs TASDIQ_SMS_HTTP_URL');
  if (sms === 'dev' && !config.development) problems.push('TASDIQ_SMS_CHANNEL=dev is for development only (TASDIQ_DEVELOPMENT=1)');

  let fcm: FcmConfig | undefined;
  const fcmKey = readSecret(env, 'TASDIQ_FCM_PRIVATE_KEY', 'TASDIQ_FCM_PRIVATE_KEY_FILE', problems);
  if (env.TASDIQ_FCM_PROJECT_ID || fcmKey) {
    if (!env.TASDIQ_FCM_PROJECT_ID || !env.TASDIQ_FCM_CLIENT_EMAIL || !fcmKey) {
      problems.push('FCM: set TASDIQ_FCM_PROJECT_ID, TASDIQ_FCM_CLIENT_EMAIL and TASDIQ_FCM_PRIVATE_KEY(_FILE) together');
    } else {
      fcm = {
        endpoint: url('TASDIQ_FCM_ENDPOINT', env.TASDIQ_FCM_ENDPOINT ?? 'https://fcm.googleapis.com', problems),
        tokenUrl: url('TASDIQ_FCM_TOKEN_URL', env.TASDIQ_FCM_TOKEN_URL ?? 'https://oauth2.googleapis.com/token', problems),
        projectId: env.TASDIQ_FCM_PROJECT_ID,
        clientEmail: env.TASDIQ_FCM_CLIENT_EMAIL,
        privateKey: fcmKey,
      };
    }
  }
  let apns: ApnsConfig | undefined;
  const apnsKey = readSecret(env, 'TASDIQ_APNS_PRIVATE_KEY', 'TASDIQ_APNS_KEY_FILE', problems);
  if (env.TASDIQ_APNS_TEAM_ID || apnsKey) {
    if (!env.TASDIQ_APNS_TEAM_ID || !env.TASDIQ_APNS_KEY_ID || !env.TASDIQ_APNS_TOPIC || !apnsKey) {
      problems.push('APNs: set TASDIQ_APNS_TEAM_ID, TASDIQ_APNS_KEY_ID, TASDIQ_APNS_TOPIC and TASDIQ_APNS_KEY_FILE together');
    } else {
      apns = {
        endpoint: url('TASDIQ_APNS_ENDPOINT', env.TASDIQ_APNS_ENDPOINT ?? 'https://api.push.apple.com', problems),
        teamId: env.TASDIQ_APNS_TEAM_ID,
        keyId: env.TASDIQ_APNS_KEY_ID,
        topic: env.TASDIQ_APNS_TOPIC,
        privateKey: apnsKey,
      };
    }
  }
  const enabledRaw = (env.TASDIQ_OUTBOX_WORKER ?? '1').trim().toLowerCase();
  if (!['0', '1', 'true', 'false', 'on', 'off'].includes(enabledRaw)) problems.push('TASDIQ_OUTBOX_WORKER: expected 0 or 1');
  const worker: WorkerSettings = {
    enabled: ['1', 'true', 'on'].includes(enabledRaw),
    batchSize: integerSetting(env, 'TASDIQ_OUTBOX_BATCH', 50, 1, 1000, problems),
    leaseMs: integerSetting(env, 'TASDIQ_OUTBOX_LEASE_MS', 30_000, 500, 3_600_000, problems),
    pollMs: integerSetting(env, 'TASDIQ_OUTBOX_POLL_MS', 200, 5, 60_000, problems),
    baseBackoffMs: integerSetting(env, 'TASDIQ_OUTBOX_BACKOFF_MS', 1_000, 1, 600_000, problems),
    maxBackoffMs: integerSetting(env, 'TASDIQ_OUTBOX_MAX_BACKOFF_MS', 300_000, 1, 86_400_000, problems),
    retentionMs: integerSetting(env, 'TASDIQ_OUTBOX_RETENTION_DAYS', 30, 1, 3650, problems) * 86_400_000,
    metricsPort: env.TASDIQ_WORKER_METRICS_PORT ? integerSetting(env, 'TASDIQ_WORKER_METRICS_PORT', 0, 1, 65535, problems) : undefined,
    metricsHost: env.TASDIQ_WORKER_METRICS_HOST || '127.0.0.1',
  };
  const webPush = parseWebPushHosts(env.TASDIQ_WEBPUSH_HOSTS, config.development, problems);
  let vapid: VapidConfig | undefined;
  try {
    vapid = vapidKeys(env, config, problems);
  } catch (error) {
    problems.push(`VAPID keys: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const httpSmsReceiptToken = env.TASDIQ_SMS_HTTP_RECEIPT_TOKEN || undefined;
  if (httpSmsReceiptToken !== undefined && httpSmsReceiptToken.length < 32) problems.push('TASDIQ_SMS_HTTP_RECEIPT_TOKEN: use at least 32 random characters');
  if (problems.length > 0) throw new ConfigError(problems);
  return { sms, smppRoutes, httpSms, httpSmsReceiptToken, vapid, fcm, apns, webPush, worker, development: config.development };
}
