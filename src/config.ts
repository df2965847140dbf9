// The one place that reads the environment: typed settings with defaults that run the embedded stack.
import path from 'node:path';
import { DEFAULT_LOGIN_THROTTLE, type LoginThrottleOptions } from './auth/login-throttle.js';
import { bearerToken } from './auth/tokens.js';
import { DEFAULT_ADMISSION, type AdmissionSettings } from './api/admission.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './domain/webhooks.js';
import { parsePayloadKeys, type PayloadKey } from './payload-codec.js';

export { SEARCH_ATTRIBUTES } from './domain/vocabulary.js';

export interface Config {
  /** Root of the project, for data and tools folders. */
  rootDir: string;
  dataDir: string;
  toolsDir: string;
  host: string;
  port: number;
  logLevel: string;
  /** Unset: the launcher starts embedded Postgres on pgPort. */
  databaseUrl: string | undefined;
  pgPort: number;
  /**
   * A read replica (a hot standby of DATABASE_URL) for reads that decide nothing: availability, locations, slot lists
   * and the catalogue. Unset: they read the primary.
   */
  databaseReadUrl: string | undefined;
  /** Reads go back to the primary while the replica lags more than this, or does not answer. */
  databaseReadMaxLagMs: number;
  /** The event log: how many days of it are kept (see src/db/repositories/event-partitions.ts). */
  events: { retentionDays: number };
  temporal: {
    /** Unset: the launcher starts the Temporal dev server on devPort. */
    address: string | undefined;
    devPort: number;
    uiPort: number;
    namespace: string;
    taskQueue: string;
    cliPath: string | undefined;
    testServerPath: string | undefined;
    tlsCertPath: string | undefined;
    tlsKeyPath: string | undefined;
    apiKey: string | undefined;
    /**
     * Keys of the payload codec every Temporal client and worker uses: the first encrypts, all decrypt. Empty in
     * production when PAYLOAD_CODEC_KEYS is unset, and then no client or worker starts (see src/temporal.ts).
     */
    payloadKeys: PayloadKey[];
    /** Browser origins of the Temporal Web UI, allowed to call the codec endpoint (/codec) with credentials. */
    uiOrigins: string[];
  };
  bank: {
    url: string | undefined;
    port: number;
    webhookSecrets: string[];
    /** The API's credential at the bank: the bank refuses charges, voids, refunds and account reads without it. */
    apiKey: string;
    /** The bank opens test accounts on request (POST /accounts): dev and test only, never in production. */
    testAccounts: boolean;
  };
  paymentTimeoutMs: number;
  /** Admission control of order placement (see src/api/admission.ts); undefined admits everything. */
  admission: AdmissionSettings | undefined;
  cookieSecret: string;
  /** Failed password logins counted per email and per client before they are refused (see src/auth/login-throttle.ts). */
  loginThrottle: LoginThrottleOptions;
  /** Where people reach the pages, for links the API hands out (staff invitations); the request's own origin when unset. */
  publicUrl: string | undefined;
  /** Browser origins allowed to call the API cross-origin (CORS); empty keeps CORS closed. */
  corsOrigins: string[];
  /** Requests per minute before 429; 0 turns a limit off. */
  rateLimits: {
    /** POST /v1/session, per client IP. */
    loginPerMinute: number;
    /** POST /v1/orders, per customer. */
    ordersPerMinute: number;
    /** Where the counters live: this process alone, or Postgres, shared by every API replica. */
    store: 'memory' | 'postgres';
  };
  /**
   * Which proxies in front of the API to believe about the client's address (X-Forwarded-For): false for none,
   * true for any, a hop count, or a list of addresses and CIDR ranges. Rate limits per address need it behind a load balancer.
   */
  trustProxy: boolean | number | string[];
  /** When set, GET /metrics answers only `Authorization: Bearer <metricsToken>`; unset, it is open (keep it off the internet). */
  metricsToken: string | undefined;
  /** The workflow bundle the worker loads; unset, a build loads its own dist/workflow-bundle.js and the sources bundle `workflows/`. */
  workflowBundle: string | undefined;
  /** Outgoing webhooks: where they may go and how failed deliveries are retried (see src/webhooks/). */
  webhooks: WebhookSettings;
  /** Prometheus endpoints of the worker process, on HOST; 0 turns one off. */
  workerMetrics: {
    /** The Temporal SDK's own exporter: task latencies, slots, sticky cache, polls. */
    sdkPort: number;
    /** Our metrics beside it (bank latency, process), from prom-client. */
    appPort: number;
  };
}

export interface WebhookSettings {
  /** Receivers may be on loopback, private and link-local addresses and use plain http: development only. */
  allowPrivateNetworks: boolean;
  retry: RetryPolicy;
  /** How long one POST may take, connection to answer. */
  timeoutMs: number;
  /** How long a rotated-out secret keeps signing beside the new one. */
  secretOverlapMs: number;
  /** How long an endpoint's workflow sleeps with nothing due before it looks again, in case a wake-up was lost. */
  idleRecheckMs: number;
  /** The shortest time between two wake-up signals to one endpoint's workflow: what bounds its history under load. */
  wakeIntervalMs: number;
  /**
   * Whether this worker process LISTENs for committed deliveries and wakes their endpoints' workflows. One waker per
   * database is enough (more only duplicate signals); a worker sharing a database with another deployment turns it off,
   * since a waker starts any endpoint's workflow on its own task queue.
   */
  waker: boolean;
}

/** A comma-separated list of positive millisecond counts. */
function msList(env: NodeJS.ProcessEnv, name: string, fallback: readonly number[]): number[] {
  const raw = str(env, name);
  if (raw === undefined) return [...fallback];
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`${name} must be a comma-separated list of positive milliseconds, got "${raw}"`);
  return list;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = int(env, name, fallback);
  if (value === 0) throw new Error(`${name} must be at least 1`);
  return value;
}

function str(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

/** Where the API and the worker reach the bank. */
export function bankUrl(config: Pick<Config, 'bank'>): string {
  return config.bank.url ?? `http://127.0.0.1:${config.bank.port}`;
}

/** The bank's API key on a developer's machine and in tests; production sets BANK_API_KEY. */
export const DEV_BANK_API_KEY = 'dev-bank-api-key';

/**
 * The payload codec's key on a developer's machine and in tests, so the encryption is exercised there too; production
 * sets PAYLOAD_CODEC_KEYS. Anyone can read it here: it protects nothing.
 */
export const DEV_PAYLOAD_CODEC_KEYS = 'dev:7dGIsQS+cs05GAUcO49+1YUIS11B2F87TXA6J1Tjf4Y=';

/** A secret clients send as `Authorization: Bearer <secret>`, so it must fit that header's form. */
function bearerSecret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = str(env, name);
  if (raw !== undefined && bearerToken(`Bearer ${raw}`) !== raw)
    throw new Error(`${name} must be 1 to 200 characters without spaces`);
  return raw;
}

/** `false` (default), `true`, a hop count, or a comma-separated list of proxy addresses and CIDR ranges. */
function trustProxy(env: NodeJS.ProcessEnv, name: string): boolean | number | string[] {
  const raw = str(env, name);
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of list) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry))
      throw new Error(`${name} must be true, false, a hop count or addresses and CIDR ranges, got "${entry}"`);
  }
  return list;
}

/** A comma-separated list of origins (`scheme://host[:port]`) or `*`; a typo must fail loudly, not silently block a site. */
function origins(env: NodeJS.ProcessEnv, name: string): string[] {
  const list = (str(env, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of list) {
    let valid = origin === '*';
    try {
      valid ||= new URL(origin).origin === origin;
    } catch {
      // not a URL
    }
    if (!valid) throw new Error(`${name} must list origins like https://shop.example or *, got "${origin}"`);
  }
  return list;
}

/** Origins that may call with credentials: named ones only, as browsers refuse credentials for `*`. */
function uiOrigins(env: NodeJS.ProcessEnv, name: string, fallback: string[]): string[] {
  if (str(env, name) === undefined) return fallback;
  const list = origins(env, name);
  if (list.includes('*'))
    throw new Error(`${name} must name the Web UI's origins: a browser sends no credentials to *`);
  return list;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const rootDir = path.resolve(str(env, 'APP_ROOT') ?? process.cwd());
  const dataDir = path.resolve(rootDir, str(env, 'DATA_DIR') ?? '.data');
  const toolsDir = path.resolve(rootDir, str(env, 'TOOLS_DIR') ?? '.tools');
  const production = env.NODE_ENV === 'production';
  const uiPort = int(env, 'TEMPORAL_UI_PORT', 8233);
  const payloadKeys = str(env, 'PAYLOAD_CODEC_KEYS') ?? (production ? undefined : DEV_PAYLOAD_CODEC_KEYS);
  return {
    rootDir,
    dataDir,
    toolsDir,
    host: str(env, 'HOST') ?? '127.0.0.1',
    port: int(env, 'PORT', 3000),
    logLevel: str(env, 'LOG_LEVEL') ?? 'info',
    databaseUrl: str(env, 'DATABASE_URL'),
    pgPort: int(env, 'PG_PORT', 5433),
    databaseReadUrl: str(env, 'DATABASE_READ_URL'),
    databaseReadMaxLagMs: int(env, 'DATABASE_READ_MAX_LAG_MS', 5_000),
    events: { retentionDays: positive(env, 'EVENTS_RETENTION_DAYS', 14) },
    temporal: {
      address: str(env, 'TEMPORAL_ADDRESS'),
      devPort: int(env, 'TEMPORAL_PORT', 7233),
      uiPort,
      namespace: str(env, 'TEMPORAL_NAMESPACE') ?? 'default',
      taskQueue: str(env, 'TEMPORAL_TASK_QUEUE') ?? 'orders',
      cliPath: str(env, 'TEMPORAL_CLI'),
      testServerPath: str(env, 'TEMPORAL_TEST_SERVER'),
      tlsCertPath: str(env, 'TEMPORAL_TLS_CERT'),
      tlsKeyPath: str(env, 'TEMPORAL_TLS_KEY'),
      apiKey: str(env, 'TEMPORAL_API_KEY'),
      payloadKeys: payloadKeys === undefined ? [] : parsePayloadKeys(payloadKeys),
      uiOrigins: uiOrigins(
        env,
        'TEMPORAL_UI_ORIGINS',
        production ? [] : [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
      ),
    },
    bank: {
      url: str(env, 'BANK_URL'),
      port: int(env, 'BANK_PORT', 3100),
      webhookSecrets: (str(env, 'BANK_WEBHOOK_SECRETS') ?? 'dev-bank-webhook-secret')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      apiKey: bearerSecret(env, 'BANK_API_KEY') ?? DEV_BANK_API_KEY,
      testAccounts: bool(env, 'BANK_TEST_ACCOUNTS', !production),
    },
    paymentTimeoutMs: int(env, 'PAYMENT_TIMEOUT_MS', 10 * 60 * 1000),
    admission: bool(env, 'ORDER_ADMISSION', true)
      ? {
          ...DEFAULT_ADMISSION,
          initialLimit: int(env, 'ORDER_ADMISSION_INITIAL_LIMIT', DEFAULT_ADMISSION.initialLimit),
          maxLimit: int(env, 'ORDER_ADMISSION_MAX_LIMIT', DEFAULT_ADMISSION.maxLimit),
          maxWaitMs: int(env, 'ORDER_ADMISSION_MAX_WAIT_MS', DEFAULT_ADMISSION.maxWaitMs),
          targetMs: int(env, 'ORDER_ADMISSION_TARGET_MS', DEFAULT_ADMISSION.targetMs),
        }
      : undefined,
    cookieSecret: str(env, 'COOKIE_SECRET') ?? 'dev-cookie-secret-change-me-in-production-0123456789',
    loginThrottle: {
      ...DEFAULT_LOGIN_THROTTLE,
      perEmail: int(env, 'LOGIN_FAILURES_PER_EMAIL', DEFAULT_LOGIN_THROTTLE.perEmail),
      perClient: int(env, 'LOGIN_FAILURES_PER_CLIENT', DEFAULT_LOGIN_THROTTLE.perClient),
    },
    publicUrl: str(env, 'PUBLIC_URL')?.replace(/\/+$/, ''),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    rateLimits: {
      loginPerMinute: int(env, 'RATE_LIMIT_LOGIN_PER_MINUTE', 10),
      ordersPerMinute: int(env, 'RATE_LIMIT_ORDERS_PER_MINUTE', 60),
      store: oneOf(env, 'RATE_LIMIT_STORE', ['memory', 'postgres'] as const, 'memory'),
    },
    trustProxy: trustProxy(env, 'TRUST_PROXY'),
    metricsToken: bearerSecret(env, 'METRICS_TOKEN'),
    workflowBundle: str(env, 'WORKFLOW_BUNDLE'),
    webhooks: {
      allowPrivateNetworks: bool(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', !production),
      retry: {
        scheduleMs: msList(env, 'WEBHOOK_RETRY_SCHEDULE_MS', DEFAULT_RETRY_POLICY.scheduleMs),
        giveUpAfterMs: int(env, 'WEBHOOK_GIVE_UP_AFTER_MS', DEFAULT_RETRY_POLICY.giveUpAfterMs),
      },
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000),
      secretOverlapMs: int(env, 'WEBHOOK_SECRET_OVERLAP_MS', 24 * 3_600_000),
      idleRecheckMs: int(env, 'WEBHOOK_IDLE_RECHECK_MS', 15 * 60_000),
      wakeIntervalMs: int(env, 'WEBHOOK_WAKE_INTERVAL_MS', 500),
      waker: bool(env, 'WEBHOOK_WAKER', true),
    },
    workerMetrics: {
      sdkPort: int(env, 'WORKER_METRICS_PORT', 9464),
      appPort: int(env, 'WORKER_APP_METRICS_PORT', 9465),
    },
  };
}
