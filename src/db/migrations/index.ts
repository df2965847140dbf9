// The ordered list of migrations, imported statically so they run the same under tsx, vitest and a build.
import type { Knex } from 'knex';
import * as m001 from './001_foundation.js';
import * as m002 from './002_inventory.js';
import * as m003 from './003_bank.js';
import * as m004 from './004_slots_deliveries.js';
import * as m005 from './005_slot_templates.js';
import * as m006 from './006_lot_source_key.js';
import * as m007 from './007_lot_idempotency_keys.js';
import * as m008 from './008_rate_limit_counters.js';
import * as m009 from './009_accounts.js';
import * as m010 from './010_read_indexes.js';
import * as m011 from './011_collection.js';
import * as m012 from './012_product_properties.js';
import * as m014 from './014_webhooks.js';
import * as m015 from './015_kitchen.js';
import * as m016 from './016_availability_price_order.js';
import * as m017 from './017_reserve_stock_function.js';
import * as m018 from './018_collect_by.js';
import * as m019 from './019_events_partitioned.js';
import * as m020 from './020_replication_heartbeat.js';
import * as m021 from './021_order_traceparent.js';
import * as m022 from './022_availability_category_order.js';
import * as m023 from './023_reserve_locked_lots.js';
import * as m024 from './024_reserve_generic_plans.js';
import * as m025 from './025_reserve_claim_after_lock.js';
import * as m026 from './026_reservation_index.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const migrations: ReadonlyArray<[name: string, migration: Migration]> = [
  ['001_foundation', m001],
  ['002_inventory', m002],
  ['003_bank', m003],
  ['004_slots_deliveries', m004],
  ['005_slot_templates', m005],
  ['006_lot_source_key', m006],
  ['007_lot_idempotency_keys', m007],
  ['008_rate_limit_counters', m008],
  ['009_accounts', m009],
  ['010_read_indexes', m010],
  ['011_collection', m011],
  ['012_product_properties', m012],
  ['014_webhooks', m014],
  ['015_kitchen', m015],
  ['016_availability_price_order', m016],
  ['017_reserve_stock_function', m017],
  ['018_collect_by', m018],
  ['019_events_partitioned', m019],
  ['020_replication_heartbeat', m020],
  ['021_order_traceparent', m021],
  ['022_availability_category_order', m022],
  ['023_reserve_locked_lots', m023],
  ['024_reserve_generic_plans', m024],
  ['025_reserve_claim_after_lock', m025],
  ['026_reservation_index', m026],
];
