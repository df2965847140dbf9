// Password guessing, slowed and then refused: failed logins are counted per email and per client address in a
// window shared by every API replica. After a few failures each answer waits longer; past the limit the login is
// refused with 429 until the window ends. A success clears the email's count and takes itself off the address's.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../api/errors.js';
import type { Repositories } from '../db/repositories/index.js';

export interface LoginThrottleOptions {
  /** Failures per email within the window before logins to it are refused; 0 turns the limit off. */
  perEmail: number;
  /** Failures per client address within the window before its logins are refused; 0 turns the limit off. */
  perClient: number;
  windowMs: number;
  /** Failures before answers start to slow down; each further one doubles the wait, up to maxDelayMs. */
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  perEmail: 10,
  perClient: 30,
  windowMs: 15 * 60_000,
  freeFailures: 3,
  baseDelayMs: 100,
  maxDelayMs: 1_600,
};

// The email is hashed into the key, so the counters table holds no address.
const emailKey = (email: string) => `login-failures:email:${createHash('sha256').update(email).digest('hex')}`;
const clientKey = (ip: string) => `login-failures:client:${ip}`;

export interface LoginAttempt {
  failed(): Promise<void>;
  succeeded(): Promise<void>;
}

/** A limit of 0 turns it off: nothing is counted or refused for it. */
const NONE = { hits: 0, ttlMs: 0 };

export function loginThrottle(repos: Pick<Repositories, 'rateLimits'>, options = DEFAULT_LOGIN_THROTTLE) {
  const tooMany = (ttlMs: number, what: string) =>
    new ApiError(429, 'too_many_attempts', `Too many failed logins ${what}; try again later`, undefined, {
      'retry-after': String(Math.max(1, Math.ceil(ttlMs / 1000))),
    });

  return {
    /**
     * Counts the attempt before its password is checked, so concurrent guesses cannot slip past the limit, and refuses
     * it when either count is over its limit. The attempt then reports how it went.
     */
    async admit(email: string, ip: string): Promise<LoginAttempt> {
      const [byEmail, byClient] = await Promise.all([
        options.perEmail > 0 ? repos.rateLimits.hit(emailKey(email), options.windowMs) : NONE,
        options.perClient > 0 ? repos.rateLimits.hit(clientKey(ip), options.windowMs) : NONE,
      ]);
      if (options.perEmail > 0 && byEmail.hits > options.perEmail) throw tooMany(byEmail.ttlMs, 'for this email');
      if (options.perClient > 0 && byClient.hits > options.perClient)
        throw tooMany(byClient.ttlMs, 'from this address');
      const over = Math.max(byEmail.hits, byClient.hits) - 1 - options.freeFailures;
      return {
        // Waits as long as the failures before this one call for, before the 401 goes out.
        async failed() {
          if (over > 0) await sleep(Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (over - 1)));
        },
        // A success is no failure: the email starts afresh, and the address gets this attempt back.
        async succeeded() {
          await Promise.all([
            options.perEmail > 0 ? repos.rateLimits.reset(emailKey(email)) : undefined,
            options.perClient > 0 ? repos.rateLimits.forgive(clientKey(ip)) : undefined,
          ]);
        },
      };
    },
  };
}
