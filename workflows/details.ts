// Words for what the Temporal Web UI shows of a running workflow (its summary and current details): ids, counts and
// UTC times, never a customer's name, address or bank account.

/** `19:39 UTC`. */
export const utcTime = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/** `2025-03-14 19:39 UTC`. */
export const utcDateTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 10)} ${utcTime(ms)}`;

/** An error message on one line and short, for a detail line. */
export const oneLine = (message: string) => message.replace(/\s+/g, ' ').slice(0, 200);

/** A lot's line in the Web UI's list: which lot, when it is discounted and when it expires. */
export function lotSummary(lot: { lotId: number; discountAt: string | null; expiresAt: string }): string {
  const discount = lot.discountAt === null ? 'no discount' : `discount from ${utcDateTime(Date.parse(lot.discountAt))}`;
  return `Lot ${lot.lotId} · ${discount} · expires ${utcDateTime(Date.parse(lot.expiresAt))}`;
}

/** A slot's line in the Web UI's list: when it ends and when ordering for it closes. */
export function slotSummary(slot: { cutoffAt: string; endsAt: string }): string {
  return `Slot ending ${utcDateTime(Date.parse(slot.endsAt))} · orders until ${utcTime(Date.parse(slot.cutoffAt))}`;
}
