// A small HTTP client for the bank, used by the payment activities and the dev launcher.
import { DEV_BANK_API_KEY } from '../config.js';
import type { Account, AccountBehavior, Charge, ChargeStatus } from './types.js';

/**
 * The bank refused the request itself (a 4xx): repeating it cannot succeed, so activities should not
 * retry. Network failures and 5xx answers are plain Errors, which are worth retrying.
 */
export class BankRequestError extends Error {
  readonly nonRetryable = true;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BankRequestError';
  }
}

export function isNonRetryableBankError(err: unknown): err is BankRequestError {
  return err instanceof BankRequestError;
}

export interface ChargeRequest {
  /** The same key with the same request returns the same charge, so a retried call never charges twice. */
  idempotencyKey: string;
  accountId: string;
  amountCents: number;
  /** Our order id; the webhook carries it back. */
  reference: string;
}

export interface NewAccount {
  holderName: string;
  balanceCents: number;
  behavior?: AccountBehavior;
  decisionDelayMs?: number;
}

export interface BankClientOptions {
  /** Per request; a slow bank is treated like an unreachable one. */
  timeoutMs?: number;
  /** The API's credential at the bank (BANK_API_KEY); the dev bank's key when unset. */
  apiKey?: string;
}

export function createBankClient(baseUrl: string, opts: BankClientOptions = {}) {
  const root = baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const authorization = `Bearer ${opts.apiKey ?? DEV_BANK_API_KEY}`;

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${root}${path}`, {
        method,
        headers: body === undefined ? { authorization } : { authorization, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Error(
        `The bank at ${root} did not answer ${method} ${path}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed as T;
    const problem = (parsed ?? {}) as { error?: string; message?: string };
    const message = `Bank ${method} ${path} answered ${res.status}: ${problem.message ?? (text.slice(0, 200) || res.statusText)}`;
    // 408 and 429 ask to come back later: retrying those is right. 401 and 403 mean our key is wrong or missing: a
    // fault of ours that an operator fixes, after which the same request succeeds, so it is retried like an outage.
    if (res.status >= 400 && res.status < 500 && ![401, 403, 408, 429].includes(res.status)) {
      throw new BankRequestError(res.status, problem.error ?? 'bank_error', message);
    }
    throw new Error(message);
  }

  const id = (value: string) => encodeURIComponent(value);

  return {
    requestCharge(request: ChargeRequest): Promise<{ chargeId: string; status: ChargeStatus }> {
      return call('POST', '/charges', request);
    },
    getCharge(chargeId: string): Promise<Charge> {
      return call('GET', `/charges/${id(chargeId)}`);
    },
    /** The charge made with an idempotency key, or undefined when none was. */
    async findCharge(idempotencyKey: string): Promise<Charge | undefined> {
      try {
        return await call<Charge>('GET', `/charges?idempotencyKey=${id(idempotencyKey)}`);
      } catch (err) {
        if (err instanceof BankRequestError && err.status === 404) return undefined;
        throw err;
      }
    },
    /** Voids a pending charge or refunds an approved one; safe to repeat. */
    voidCharge(chargeId: string): Promise<Charge> {
      return call('POST', `/charges/${id(chargeId)}/void`);
    },
    /** Refunds an approved charge; safe to repeat. A charge that took no money is refused (409). */
    refundCharge(chargeId: string): Promise<Charge> {
      return call('POST', `/charges/${id(chargeId)}/refund`);
    },
    createAccount(account: NewAccount): Promise<Account> {
      return call('POST', '/accounts', account);
    },
    getAccount(accountId: string): Promise<Account> {
      return call('GET', `/accounts/${id(accountId)}`);
    },
  };
}

export type BankClient = ReturnType<typeof createBankClient>;
