// Gives the demo customers bank accounts, once: a well-funded one, and one too poor for a larger order.
import type { Knex } from 'knex';
import { BankRequestError, type BankClient } from '../bank/client.js';
import { createUserRepository } from '../db/repositories/users.js';
import type { DemoData, DemoUserName } from '../db/seed.js';

/** customer2's balance covers a croissant or two, so a larger order fails with insufficient funds. */
export const DEMO_BANK_BALANCES: Partial<Record<DemoUserName, number>> = {
  customer: 100_000,
  customer2: 500,
};

/**
 * Links each demo customer to a bank account, creating it only when the user has none yet or the bank
 * no longer knows it (a fresh bank database, another standalone bank). Returns the account ids.
 */
export async function ensureDemoBankAccounts(
  db: Knex,
  bank: BankClient,
  demo: DemoData,
): Promise<Record<string, string>> {
  const users = createUserRepository(db);
  const accounts: Record<string, string> = {};
  for (const [name, balanceCents] of Object.entries(DEMO_BANK_BALANCES) as [DemoUserName, number][]) {
    const userId = demo.users[name].id;
    const link = await users.findBankAccount(userId);
    if (!link) throw new Error(`Demo user ${name} (${userId}) is missing; the seed must run first`);
    if (link.bankAccountId && (await bankKnows(bank, link.bankAccountId))) {
      accounts[name] = link.bankAccountId;
      continue;
    }
    const account = await bank.createAccount({
      holderName: `Demo ${name}`,
      balanceCents,
      behavior: 'normal',
      decisionDelayMs: 1_000,
    });
    await users.linkBankAccount(userId, account.id);
    accounts[name] = account.id;
  }
  return accounts;
}

async function bankKnows(bank: BankClient, accountId: string): Promise<boolean> {
  try {
    await bank.getAccount(accountId);
    return true;
  } catch (err) {
    // 404 (unknown) or 400 (not even an id this bank issues): the account must be opened again.
    if (err instanceof BankRequestError && (err.status === 404 || err.status === 400)) return false;
    throw err;
  }
}
