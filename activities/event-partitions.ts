// Keeps the event log's day partitions: the coming days' partitions made ahead, and the days past retention dropped,
// except a day that still holds an event of an open order.
import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { partitionName, utcDay } from '../src/db/repositories/event-partitions.js';
import { createRepositories } from '../src/db/repositories/index.js';

/** Today and this many days after it always have their partition, so a late run never sends a day to the default. */
export const EVENT_PARTITION_DAYS_AHEAD = 3;
const DAY_MS = 86_400_000;

export interface EventPartitionSettings {
  /** Whole UTC days of the log kept after the day they were logged. */
  retentionDays: number;
}

export interface EventPartitionsResult {
  created: string[];
  dropped: string[];
  /** Partitions past retention kept because an open order has an event in them. */
  kept: { partition: string; orderId: string }[];
}

export function createEventPartitionActivities(db: Knex, settings: EventPartitionSettings) {
  const { eventPartitions: partitions } = createRepositories(db);
  return {
    async maintainEventPartitions(): Promise<EventPartitionsResult> {
      const now = new Date();
      const today = utcDay(now);
      const result: EventPartitionsResult = { created: [], dropped: [], kept: [] };

      // The days ahead, and any day whose rows the default partition caught because its partition came too late.
      const days = new Map<number, Date>();
      for (let n = 0; n <= EVENT_PARTITION_DAYS_AHEAD; n++)
        days.set(today.getTime() + n * DAY_MS, new Date(today.getTime() + n * DAY_MS));
      for (const day of await partitions.daysInDefault()) days.set(day.getTime(), day);
      for (const day of [...days.values()].sort((a, b) => a.getTime() - b.getTime())) {
        if (await partitions.createDay(day)) result.created.push(partitionName(day));
      }

      // A partition goes once its whole day is more than the retention behind today's start.
      const keepFrom = today.getTime() - settings.retentionDays * DAY_MS;
      for (const partition of await partitions.list()) {
        if (!partition.to || partition.to.getTime() > keepFrom) continue;
        const outcome = await partitions.dropUnlessNeeded(partition);
        if (outcome.dropped) result.dropped.push(partition.name);
        else {
          result.kept.push({ partition: partition.name, orderId: outcome.orderId });
          log.warn('event partition past retention kept: an open order has events in it', {
            partition: partition.name,
            orderId: outcome.orderId,
          });
        }
      }
      if (result.created.length || result.dropped.length) log.info('event partitions maintained', { ...result });
      return result;
    },
  };
}
