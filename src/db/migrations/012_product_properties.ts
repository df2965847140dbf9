// What customers search by besides the name: a product's category, from a list operators keep, and its tags, from
// the fixed vocabulary. Lots carry copies of them and of the list price, kept in step by triggers as the name is, so
// availability filters, sorts and counts facets from the lot index without visiting products.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('categories', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.alterTable('products', (t) => {
    // No cascade: a category in use cannot be deleted.
    t.uuid('category_id').references('categories.id');
    t.specificType('tags', 'text[]').notNullable().defaultTo('{}');
  });
  // PRODUCT_TAGS as they stood; a new tag needs a migration that widens this check.
  await knex.raw(`
    ALTER TABLE products ADD CONSTRAINT products_tags_check CHECK (tags <@ ARRAY[
      'vegan', 'vegetarian', 'gluten_free', 'dairy_free', 'contains_nuts', 'halal', 'organic'
    ]::text[])`);
  // Deleting a category asks whether any product uses it.
  await knex.raw('CREATE INDEX products_category_idx ON products (category_id)');
  await knex.raw('CREATE INDEX products_tags_idx ON products USING gin (tags)');

  await knex.schema.alterTable('stock_lots', (t) => {
    t.uuid('product_category_id');
    t.specificType('product_tags', 'text[]').notNullable().defaultTo('{}');
    t.integer('product_price_cents').notNullable().defaultTo(0);
  });
  await knex.raw(`
    CREATE OR REPLACE FUNCTION stock_lots_copy_product_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT lower(name), category_id, tags, price_cents
      INTO NEW.product_sort_key, NEW.product_category_id, NEW.product_tags, NEW.product_price_cents
      FROM products WHERE id = NEW.product_id;
      RETURN NEW;
    END $$`);
  // Like renames, these changes are rare enough to scan the lots for the product's.
  await knex.raw(`
    CREATE FUNCTION products_properties_stock_lots() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE stock_lots
      SET product_category_id = NEW.category_id, product_tags = NEW.tags, product_price_cents = NEW.price_cents
      WHERE product_id = NEW.id;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER products_properties_stock_lots AFTER UPDATE OF category_id, tags, price_cents ON products
    FOR EACH ROW WHEN (
      OLD.category_id IS DISTINCT FROM NEW.category_id OR OLD.tags IS DISTINCT FROM NEW.tags
      OR OLD.price_cents IS DISTINCT FROM NEW.price_cents
    ) EXECUTE FUNCTION products_properties_stock_lots()`);
  await knex.raw(`
    UPDATE stock_lots s SET product_category_id = p.category_id, product_tags = p.tags, product_price_cents = p.price_cents
    FROM products p WHERE p.id = s.product_id`);
  await knex.raw('DROP INDEX stock_lots_availability_idx');
  await knex.raw(`
    CREATE INDEX stock_lots_availability_idx ON stock_lots (location_id, product_sort_key, product_id)
    INCLUDE (available, expires_at, discount_from, product_price_cents, product_category_id, product_tags)
    WHERE available > 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX stock_lots_availability_idx');
  await knex.raw(`
    CREATE INDEX stock_lots_availability_idx ON stock_lots (location_id, product_sort_key, product_id)
    INCLUDE (available, expires_at, discount_from) WHERE available > 0`);
  await knex.raw('DROP TRIGGER IF EXISTS products_properties_stock_lots ON products');
  await knex.raw('DROP FUNCTION IF EXISTS products_properties_stock_lots()');
  await knex.raw(`
    CREATE OR REPLACE FUNCTION stock_lots_copy_product_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT lower(name) INTO NEW.product_sort_key FROM products WHERE id = NEW.product_id;
      RETURN NEW;
    END $$`);
  await knex.schema.alterTable('stock_lots', (t) => {
    t.dropColumn('product_price_cents');
    t.dropColumn('product_tags');
    t.dropColumn('product_category_id');
  });
  await knex.raw('DROP INDEX IF EXISTS products_tags_idx');
  await knex.raw('DROP INDEX IF EXISTS products_category_idx');
  await knex.raw('ALTER TABLE products DROP CONSTRAINT IF EXISTS products_tags_check');
  await knex.schema.alterTable('products', (t) => {
    t.dropColumn('tags');
    t.dropColumn('category_id');
  });
  await knex.schema.dropTable('categories');
}
