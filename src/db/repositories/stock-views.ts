// What the stock repository reads and returns: lots as the API shows them, receiving results, reservation plans.

export interface LotView {
  id: number;
  locationId: string;
  productId: string;
  quantity: number;
  available: number;
  reserved: number;
  sold: number;
  discarded: number;
  producedAt: string;
  expiresAt: string;
  discountFrom: string | null;
}

export type ReceiveLotResult =
  | { status: 'received'; lot: LotView }
  | { status: 'unknown_location' | 'unknown_product' }
  | { status: 'already_expired'; expiresAt: string }
  | { status: 'expires_before_produced' };

/** Receiving under an Idempotency-Key: a new lot, the lot the key already received, or a refusal. */
export type ReceiveLotOnceResult =
  ReceiveLotResult | { status: 'replayed'; lot: LotView } | { status: 'idempotency_key_reused' };

/** A caller's Idempotency-Key and the digest of the request it comes with. */
export interface LotIdempotencyKey {
  userId: string;
  key: string;
  requestHash: string;
}

export interface ReceiveLotInput {
  locationId: string;
  productId: string;
  quantity: number;
  producedAt?: Date;
  expiresAt?: Date;
  /** The same source (a production run) receives one lot however often it is retried. */
  sourceKey?: string;
}

/** A fresh lot an order could take units from, with its product's prices. */
export interface CandidateLot {
  id: number;
  product_id: string;
  produced_at: Date;
  expires_at: Date;
  available: number;
  discount_from: Date | null;
  price_cents: number;
  eod_discount_percent: number;
}

/** Units the reservation plan takes from one lot, at the price each unit sells for. */
export interface PlannedTake {
  lotId: number;
  productId: string;
  quantity: number;
  unitPriceCents: number;
  /** Whether the lot was in its discount when planned; a lot whose discount started since makes the plan stale. */
  discounted: boolean;
}

/** Why a lot's remaining units were discarded: it expired, its location closed for the day, or its staff threw them out. */
export type DiscardReason = 'expired' | 'closing' | 'staff';

export interface LotRow {
  id: number;
  location_id: string;
  product_id: string;
  quantity: number;
  available: number;
  reserved: number;
  sold: number;
  discarded: number;
  produced_at: Date;
  expires_at: Date;
  discount_from: Date | null;
}

export const LOT_COLUMNS = [
  'id',
  'location_id',
  'product_id',
  'quantity',
  'available',
  'reserved',
  'sold',
  'discarded',
  'produced_at',
  'expires_at',
  'discount_from',
] as const;

export const lotView = (r: LotRow): LotView => ({
  id: r.id,
  locationId: r.location_id,
  productId: r.product_id,
  quantity: r.quantity,
  available: r.available,
  reserved: r.reserved,
  sold: r.sold,
  discarded: r.discarded,
  producedAt: r.produced_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  discountFrom: r.discount_from?.toISOString() ?? null,
});
