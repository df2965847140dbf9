// What customers search by besides the name: a product's category, from a list operators keep, and its tags, from
// the fixed vocabulary.
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
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS products_tags_idx');
  await knex.raw('DROP INDEX IF EXISTS products_category_idx');
  await knex.raw('ALTER TABLE products DROP CONSTRAINT IF EXISTS products_tags_check');
  await knex.schema.alterTable('products', (t) => {
    t.dropColumn('tags');
    t.dropColumn('category_id');
  });
  await knex.schema.dropTable('categories');
}
