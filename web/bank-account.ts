// The step that links a customer's bank account, which pays for their orders: an account number, or at the dev bank a
// funded test account opened in one tap.
import { api, field, formError, h, onSubmit, showError, toast } from './lib.js';

export interface BankAccount {
  linked: boolean;
  accountNumber: string | null;
}

/** What GET /v1/me says about the signed-in user. */
export interface Me {
  user: { id: string; name: string; email: string | null; role: string };
  locations: { id: string; name: string; role: 'owner' | 'driver' }[];
  bankAccount: BankAccount;
  /** The bank is the dev bank, which opens test accounts on request. */
  testBankAccounts: boolean;
}

/** Shows the link step in `container` and resolves with the account once one is linked. */
export function linkBankAccount(container: HTMLElement, offerTestAccount: boolean): Promise<BankAccount> {
  return new Promise((resolve) => {
    const done = (bankAccount: BankAccount) => {
      toast(bankAccount.accountNumber ? `Bank account ${bankAccount.accountNumber} linked` : 'Bank account linked');
      resolve(bankAccount);
    };
    const accountNumber = h('input', {
      name: 'accountNumber',
      required: true,
      autocomplete: 'off',
      autocapitalize: 'off',
      spellcheck: 'false',
    });
    const form = h(
      'form',
      { class: 'card', id: 'bank-account' },
      h('h2', {}, 'Link your bank account'),
      h('p', { class: 'muted' }, 'Your orders are paid from your bank account. You only do this once.'),
      field(
        'Account number',
        accountNumber,
        'As your bank shows it, for example 3f1c9a2e-5b7d-4c1e-9f0a-2d6b8e4c7a31.',
      ),
      formError(),
      h('button', { type: 'submit', class: 'primary block' }, 'Link account'),
    );
    onSubmit(
      form,
      async () => {
        const { bankAccount } = await api<{ bankAccount: BankAccount }>('PUT', '/v1/me/bank-account', {
          accountNumber: accountNumber.value.trim(),
        });
        done(bankAccount);
      },
      { unknown_bank_account: 'accountNumber' },
    );
    if (offerTestAccount) {
      const open = h('button', { type: 'button', class: 'block', id: 'test-account' }, 'Open a test account');
      open.addEventListener('click', () => {
        open.disabled = true;
        api<{ bankAccount: BankAccount }>('POST', '/v1/me/bank-account/test-account', {}).then(
          ({ bankAccount }) => done(bankAccount),
          (err: unknown) => {
            showError(form, err);
            open.disabled = false;
          },
        );
      });
      form.append(
        h('p', { class: 'or muted' }, 'or'),
        h('p', { class: 'muted' }, 'This is a test bank: it can open a funded account for you.'),
        open,
      );
    }
    container.replaceChildren(form);
    accountNumber.focus();
  });
}
