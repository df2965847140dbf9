// Perishables: each lot discounts itself before closing and discards its unreserved units at expiry; Schedules run production and the discard sweeps.
import { ParentClosePolicy, proxyActivities, setCurrentDetails, sleep, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { lotSummary, utcDateTime } from './details.js';

const stock = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

// A sweep may touch many lots in batches; give it room before Temporal retries it.
const sweeps = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/** Postgres decides "expired" by its own clock; waking a moment late keeps a slightly fast Temporal clock from finding nothing due. */
const EXPIRY_MARGIN_MS = 1_000;

export interface LotTimes {
  lotId: number;
  /** ISO UTC; when the end-of-day discount starts, or null when the lot is never discounted. */
  discountAt: string | null;
  /** ISO UTC. */
  expiresAt: string;
}

export async function lotWorkflow(input: LotTimes): Promise<void> {
  const expiresAt = Date.parse(input.expiresAt);
  let discounted = false;
  if (input.discountAt !== null) {
    const discountAt = Date.parse(input.discountAt);
    if (discountAt < expiresAt) {
      setCurrentDetails(`fresh; discounted from ${utcDateTime(discountAt)}`);
      if (discountAt > Date.now()) await sleep(discountAt - Date.now());
      // The price already follows discount_from in the database; this announces it to the live views at the moment it changes.
      await stock.discountLot(input.lotId);
      discounted = true;
    }
  }
  setCurrentDetails(`${discounted ? 'discounted' : 'fresh'}; unsold units are discarded at ${utcDateTime(expiresAt)}`);
  const untilExpiry = expiresAt + EXPIRY_MARGIN_MS - Date.now();
  if (untilExpiry > 0) await sleep(untilExpiry);
  await stock.discardExpiredLot(input.lotId);
  setCurrentDetails(`expired: unsold units discarded at ${utcDateTime(Date.now())}`);
}

/** One run of a production plan, started by its Schedule: bakes a lot and hands it to its own timer workflow. */
export async function productionRunWorkflow(input: {
  locationId: string;
  productId: string;
  quantity: number;
}): Promise<number | null> {
  const lot = await stock.produceLot(input);
  // The product or location is gone; the plan's Schedule outlived it and has nothing to bake.
  if (!lot) return null;
  await startChild(lotWorkflow, {
    workflowId: `lot-${lot.lotId}`,
    args: [lot],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: lotSummary(lot),
  });
  return lot.lotId;
}

/** Run by a Schedule: throws out whatever is left at locations that have closed, and anything expired. */
export async function endOfDayWorkflow(): Promise<{ lots: number; units: number }> {
  const closed = await sweeps.discardAfterClosing();
  const expired = await sweeps.discardExpiredStock();
  return { lots: closed.lots + expired.lots, units: closed.units + expired.units };
}

/** Run every 15 minutes by a Schedule: catches expired lots whose timer is missing or late. */
export async function staleSweepWorkflow(): Promise<{ lots: number; units: number }> {
  return sweeps.discardExpiredStock();
}
