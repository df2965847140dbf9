// The bank's public contract, shared by the bank, its client and the API's webhook receiver.

export const ACCOUNT_BEHAVIORS = ['normal', 'decline', 'silent'] as const;
/** normal: approve when funds suffice; decline: decline every charge; silent: never answer. */
export type AccountBehavior = (typeof ACCOUNT_BEHAVIORS)[number];

export const CHARGE_STATUSES = ['pending', 'approved', 'insufficient_funds', 'declined', 'voided', 'refunded'] as const;
export type ChargeStatus = (typeof CHARGE_STATUSES)[number];

export const WEBHOOK_EVENT_TYPES = [
  'charge.approved',
  'charge.insufficient_funds',
  'charge.declined',
  'charge.refunded',
  'charge.voided',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface Account {
  id: string;
  holderName: string;
  balanceCents: number;
  heldCents: number;
  /** What a new charge may take: the balance less what pending charges hold. */
  availableCents: number;
  behavior: AccountBehavior;
  decisionDelayMs: number;
  createdAt: string;
}

export interface Charge {
  id: string;
  idempotencyKey: string;
  accountId: string;
  amountCents: number;
  reference: string;
  status: ChargeStatus;
  createdAt: string;
  updatedAt: string;
  decidedAt: string | null;
}

/** The JSON body the bank POSTs to the merchant's webhook URL. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: {
    chargeId: string;
    reference: string;
    amountCents: number;
    status: ChargeStatus;
  };
}
