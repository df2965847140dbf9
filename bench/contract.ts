// `npm run bench -- contract [--examples 50] [--timeout 600] [--seed N]`: Schemathesis against /docs/json of a stack of
// its own, as an owner and as a customer, with every default check and more examples than the run in npm test
// (test/integration/contract.test.ts). Each caller's summary goes to stderr; the result is one JSON line.
import { provisionUser } from '../src/auth/provisioning.js';
import { newToken } from '../src/auth/tokens.js';
import { createRepositories } from '../src/db/repositories/index.js';
import { findSchemathesis, runSchemathesis } from '../src/dev/schemathesis.js';
import { numberFlag } from './support/args.js';
import { startBenchStack, type BenchStack } from './support/stack.js';

async function user(
  stack: BenchStack,
  role: 'owner' | 'customer',
  locationId?: string,
): Promise<{ id: string; token: string }> {
  return provisionUser(createRepositories(stack.db), {
    name: `Contract ${role}`,
    role,
    token: newToken(`bench_${role}`),
    locationIds: locationId ? [locationId] : [],
  });
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const examples = numberFlag(args, 'examples', 50);
  const timeoutS = numberFlag(args, 'timeout', 600);
  const seed = numberFlag(args, 'seed', 1 + Math.floor(Math.random() * 1_000_000));
  const stack = await startBenchStack();
  try {
    const binary = await findSchemathesis(stack.config.toolsDir, (msg) => console.error(msg));
    const [location] = await stack
      .db('locations')
      .insert({ name: 'Contract bakery', kind: 'bakery', lat: 51.5, lng: -0.1, delivery_radius_m: 5000 })
      .returning<{ id: string }[]>('id');
    await stack.db('products').insert({ name: 'Contract loaf', price_cents: 300, shelf_life_minutes: 600 });
    const startsAt = new Date(Date.now() + 3 * 3_600_000);
    await stack.db('slots').insert({
      location_id: location!.id,
      starts_at: startsAt,
      ends_at: new Date(startsAt.getTime() + 3_600_000),
      capacity: 10,
      cutoff_at: new Date(startsAt.getTime() - 15 * 60_000),
    });
    const owner = await user(stack, 'owner', location!.id);
    const customer = await user(stack, 'customer');
    const account = await stack.bank.createAccount({
      holderName: 'Contract customer',
      balanceCents: 10_000_000,
      decisionDelayMs: 0,
    });
    await stack.db('users').where({ id: customer.id }).update({ bank_account_id: account.id });

    const results: Record<string, unknown> = {};
    let pass = true;
    for (const [role, token] of [
      ['owner', owner.token],
      ['customer', customer.token],
    ] as const) {
      const started = Date.now();
      const outcome = await runSchemathesis({
        binary,
        baseUrl: stack.baseUrl,
        token,
        maxExamples: examples,
        timeoutMs: timeoutS * 1000,
        seed,
      });
      console.error(
        `Schemathesis as ${role} (seed ${seed}):\n${outcome.code === 0 ? outcome.summary : outcome.output}`,
      );
      const cases = /(\d+) generated/.exec(outcome.summary);
      const failures = /(\d+) unique failures?/.exec(outcome.summary);
      results[role] = {
        exit_code: outcome.code,
        test_cases: cases ? Number(cases[1]) : null,
        unique_failures: failures ? Number(failures[1]) : 0,
        seconds: Math.round((Date.now() - started) / 1000),
      };
      pass &&= outcome.code === 0;
    }
    return { bench: 'contract', examples_per_operation: examples, seed, pass, ...results };
  } finally {
    await stack.stop();
  }
}
