// The idempotent demo seed: one location with products and the demo users, whose tokens go to .data/demo.json.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { provisionUser } from '../auth/provisioning.js';
import { newToken } from '../auth/tokens.js';
import type { ProductTag, Role } from '../domain/vocabulary.js';
import { createRepositories } from './repositories/index.js';
import { createStockLotRepository } from './repositories/stock-lots.js';

export const DEMO_USERS = ['customer', 'customer2', 'owner', 'driver', 'driver2', 'operator'] as const;
export type DemoUserName = (typeof DEMO_USERS)[number];

export interface DemoData {
  locationId: string;
  users: Record<DemoUserName, { id: string; token: string }>;
}

const ROLE_OF: Record<DemoUserName, Role> = {
  customer: 'customer',
  customer2: 'customer',
  owner: 'owner',
  driver: 'driver',
  driver2: 'driver',
  operator: 'operator',
};

/** Every demo user logs in with their email and this password, or with their token. */
export const DEMO_PASSWORD = 'demo-password';
export const demoEmail = (name: DemoUserName) => `${name}@demo.test`;

export const DEMO_LOCATION = {
  name: 'Brick Lane Bakery',
  kind: 'bakery',
  lat: 51.5215,
  lng: -0.0717,
  delivery_radius_m: 8000,
  timezone: 'Europe/London',
} as const;

/** The categories the demo products are in. */
export const DEMO_CATEGORIES = ['Bread', 'Pastry', 'Cake'] as const;

export const DEMO_PRODUCTS: {
  name: string;
  description: string;
  price_cents: number;
  shelf_life_minutes: number;
  eod_discount_percent: number;
  category: (typeof DEMO_CATEGORIES)[number];
  tags: ProductTag[];
}[] = [
  {
    name: 'Butter croissant',
    description: 'Laminated, baked every morning',
    price_cents: 325,
    shelf_life_minutes: 720,
    eod_discount_percent: 40,
    category: 'Pastry',
    tags: ['vegetarian'],
  },
  {
    name: 'Sourdough loaf',
    description: 'Country loaf, 48-hour ferment',
    price_cents: 650,
    shelf_life_minutes: 2880,
    eod_discount_percent: 30,
    category: 'Bread',
    tags: ['vegan', 'dairy_free', 'organic'],
  },
  {
    name: 'Cinnamon bun',
    description: 'Cardamom dough, cinnamon butter',
    price_cents: 395,
    shelf_life_minutes: 720,
    eod_discount_percent: 40,
    category: 'Pastry',
    tags: ['vegetarian'],
  },
  {
    name: 'Pain au chocolat',
    description: 'Two batons of dark chocolate',
    price_cents: 360,
    shelf_life_minutes: 720,
    eod_discount_percent: 40,
    category: 'Pastry',
    tags: ['vegetarian'],
  },
  {
    name: 'Seeded rye',
    description: 'Dense, dark and sliced',
    price_cents: 575,
    shelf_life_minutes: 4320,
    eod_discount_percent: 25,
    category: 'Bread',
    tags: ['vegan', 'dairy_free', 'contains_nuts'],
  },
  {
    name: 'Lemon tart',
    description: 'Sharp curd, sweet pastry',
    price_cents: 450,
    shelf_life_minutes: 1440,
    eod_discount_percent: 50,
    category: 'Cake',
    tags: ['vegetarian'],
  },
];

/** Reads the demo ids and tokens, creating them the first time; the same file keeps them stable across restarts. */
export function loadOrCreateDemoData(file: string): DemoData {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as DemoData;
  const users = Object.fromEntries(
    DEMO_USERS.map((name) => [name, { id: randomUUID(), token: newToken(`demo_${name}`) }]),
  ) as DemoData['users'];
  const data: DemoData = { locationId: randomUUID(), users };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  return data;
}

/** Seeds the demo data and returns the demo products' ids. */
export async function seedDemo(db: Knex, demo: DemoData): Promise<string[]> {
  return db.transaction(async (trx) => {
    await trx('locations')
      .insert({ id: demo.locationId, ...DEMO_LOCATION })
      .onConflict('id')
      .ignore();
    for (const name of DEMO_USERS) {
      const user = demo.users[name];
      await provisionUser(createRepositories(trx), {
        id: user.id,
        name: `Demo ${name}`,
        role: ROLE_OF[name],
        email: demoEmail(name),
        password: DEMO_PASSWORD,
        token: user.token,
        tokenName: 'demo',
        locationIds: [demo.locationId],
      });
    }
    await trx('categories')
      .insert(DEMO_CATEGORIES.map((name) => ({ name })))
      .onConflict('name')
      .ignore();
    const categoryIds = new Map(
      (
        await trx('categories').whereIn('name', DEMO_CATEGORIES).select<{ id: string; name: string }[]>('id', 'name')
      ).map((c) => [c.name, c.id]),
    );
    const existing = new Set((await trx('products').select<{ name: string }[]>('name')).map((p) => p.name));
    const missing = DEMO_PRODUCTS.filter((p) => !existing.has(p.name));
    if (missing.length > 0)
      await trx('products').insert(
        missing.map(({ category, ...product }) => ({ ...product, category_id: categoryIds.get(category) })),
      );
    // Demo products seeded before products had categories get theirs; ones an operator has since set stay as they are.
    for (const { name, category, tags } of DEMO_PRODUCTS)
      await trx('products')
        .where({ name, category_id: null })
        .whereRaw("tags = '{}'")
        .update({ category_id: categoryIds.get(category), tags });
    await ensureDemoTemplates(trx, demo.locationId);
    const rows = await trx('products')
      .whereIn(
        'name',
        DEMO_PRODUCTS.map((p) => p.name),
      )
      .orderBy('name')
      .select<{ id: string }[]>('id');
    // Fresh stock at the demo location on every start, so a newcomer can order right away.
    await createStockLotRepository(trx).topUpFreshStock(
      demo.locationId,
      rows.map((r) => r.id),
      new Date(),
    );
    return rows.map((r) => r.id);
  });
}

/** The demo location delivers every hour of every day, so a newcomer can order whenever they try. */
async function ensureDemoTemplates(db: Knex, locationId: string): Promise<void> {
  if (await db('slot_templates').where({ location_id: locationId }).first('id')) return;
  const templates = [];
  for (let weekday = 1; weekday <= 7; weekday++) {
    for (let hour = 0; hour < 24; hour++) {
      const hh = String(hour).padStart(2, '0');
      templates.push({
        location_id: locationId,
        weekday,
        start: `${hh}:00`,
        end: hour === 23 ? '23:59' : `${String(hour + 1).padStart(2, '0')}:00`,
        capacity: 10,
        cutoff_minutes: 10,
      });
    }
  }
  await db('slot_templates').insert(templates);
}

/** Hourly slots from the current hour for two days, so a newcomer can order at any hour. */
export async function ensureUpcomingSlots(
  db: Knex,
  locationId: string,
  now: Date,
  opts = { hours: 48, capacity: 10, cutoffMinutes: 15 },
): Promise<void> {
  const firstHour = Math.ceil(now.getTime() / 3_600_000) * 3_600_000;
  const slots = Array.from({ length: opts.hours }, (_, i) => {
    const startsAt = new Date(firstHour + i * 3_600_000);
    return {
      location_id: locationId,
      starts_at: startsAt,
      ends_at: new Date(startsAt.getTime() + 3_600_000),
      capacity: opts.capacity,
      cutoff_at: new Date(startsAt.getTime() - opts.cutoffMinutes * 60_000),
    };
  });
  await db('slots').insert(slots).onConflict(['location_id', 'starts_at']).ignore();
}
