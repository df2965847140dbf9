// `npm run bench -- login [--accounts 20] [--attempts 200] [--concurrency 10]`: password logins over HTTP on the real
// API and Postgres. Measures one argon2id hash and verify, then three runs in the same stack:
// - baseline: each of `accounts` customers logs in once with the right password;
// - brute force: `attempts` wrong passwords against one email, `concurrency` at a time;
// - spray: `attempts` wrong passwords, each against a different email, from one client address.
// Each run comes from an address of its own, and the right password is tried last from yet another.
// Also one wrong password per account against as many unknown emails (timing parity). Reports the latency of each
// run's answers by status, and the p99 ratio of the brute-force run to the baseline.
import { randomUUID } from 'node:crypto';
import { provisionUser } from '../src/auth/provisioning.js';
import { ARGON2_PARAMETERS, hashPassword, verifyPassword } from '../src/auth/passwords.js';
import { createRepositories } from '../src/db/repositories/index.js';
import { numberFlag } from './support/args.js';
import { startLightStack } from './support/light-stack.js';
import { percentile, pool, round } from './support/stack.js';

const PASSWORD = 'the right password, long enough';

interface Answer {
  status: number;
  ms: number;
}

function summary(answers: Answer[]) {
  const byStatus: Record<string, { count: number; p50_ms: number; p99_ms: number }> = {};
  for (const status of [...new Set(answers.map((a) => a.status))].sort()) {
    const ms = answers.filter((a) => a.status === status).map((a) => a.ms);
    ms.sort((a, b) => a - b);
    byStatus[status] = { count: ms.length, p50_ms: round(percentile(ms, 50)), p99_ms: round(percentile(ms, 99)) };
  }
  const all = answers.map((a) => a.ms).sort((a, b) => a - b);
  return { requests: answers.length, p50_ms: round(percentile(all, 50)), p99_ms: round(percentile(all, 99)), byStatus };
}

async function timeEach(count: number, work: () => Promise<unknown>): Promise<{ p50_ms: number; p99_ms: number }> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await work();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { p50_ms: round(percentile(ms, 50)), p99_ms: round(percentile(ms, 99)) };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const accounts = numberFlag(args, 'accounts', 20);
  const attempts = numberFlag(args, 'attempts', 200);
  const concurrency = numberFlag(args, 'concurrency', 10);

  // The per-address request limit would answer first; what is measured here is the failed-login throttle behind it.
  process.env.RATE_LIMIT_LOGIN_PER_MINUTE = '0';
  // Each run comes from its own client address (X-Forwarded-For, believed from the one proxy hop of localhost).
  process.env.TRUST_PROXY = '1';
  const stack = await startLightStack({ api: true, poolMax: 20 });
  try {
    const hash = await hashPassword(PASSWORD);
    const hashing = await timeEach(20, () => hashPassword(PASSWORD));
    const verifying = await timeEach(20, () => verifyPassword(hash, 'a wrong password'));

    const repos = createRepositories(stack.db);
    const emails: string[] = [];
    for (let i = 0; i < accounts; i++) {
      const email = `bench-${i}-${randomUUID()}@login.bench`;
      await provisionUser(repos, { name: `Bench ${i}`, role: 'customer', email, password: PASSWORD });
      emails.push(email);
    }
    const login = async (client: string, email: string, password: string): Promise<Answer> => {
      const started = performance.now();
      const res = await fetch(`${stack.baseUrl}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf': '1', 'x-forwarded-for': client },
        body: JSON.stringify({ email, password }),
      });
      await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - started };
    };

    const baseline: Answer[] = [];
    await pool(accounts, concurrency, async (i) => {
      baseline.push(await login('198.51.100.1', emails[i]!, PASSWORD));
    });

    // Timing parity: a first wrong password for each other account, and as many unknown emails, each from an address
    // of its own, so no answer is slowed; both should cost one verify.
    const wrongPassword: Answer[] = [];
    const unknownEmail: Answer[] = [];
    for (let i = 1; i < accounts; i++) {
      wrongPassword.push(await login(`198.51.100.${10 + i}`, emails[i]!, 'a wrong password, once'));
      unknownEmail.push(
        await login(`198.51.100.${100 + i}`, `nobody-${randomUUID()}@login.bench`, 'a wrong password, once'),
      );
    }

    const target = emails[0]!;
    const bruteForce: Answer[] = [];
    await pool(attempts, concurrency, async (i) => {
      bruteForce.push(await login('198.51.100.2', target, `wrong password number ${i}`));
    });
    const rightPasswordAfter = (await login('198.51.100.4', target, PASSWORD)).status;

    const spray: Answer[] = [];
    await pool(attempts, concurrency, async (i) => {
      spray.push(await login('198.51.100.3', `nobody-${i}-${randomUUID()}@login.bench`, `wrong password number ${i}`));
    });

    const base = summary(baseline);
    const brute = summary(bruteForce);
    return {
      bench: 'login',
      argon2: { ...ARGON2_PARAMETERS, hash: hashing, verify: verifying },
      concurrency,
      baseline: base,
      timing_parity: {
        wrong_password: summary(wrongPassword),
        unknown_email: summary(unknownEmail),
        p50_ratio: round(summary(unknownEmail).p50_ms / summary(wrongPassword).p50_ms, 2),
      },
      brute_force: { ...brute, right_password_after: rightPasswordAfter },
      spray: summary(spray),
      limits: stack.config.loginThrottle,
      p99_ms: brute.p99_ms,
      baseline_p99_ms: base.p99_ms,
      p99_ratio: round(brute.p99_ms / base.p99_ms, 2),
    };
  } finally {
    await stack.stop();
  }
}
