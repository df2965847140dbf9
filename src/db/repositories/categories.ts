// Categories: the list operators keep of what kinds of product there are, the one writer of the categories table.
import type { Knex } from 'knex';

export interface CategoryView {
  id: string;
  name: string;
  createdAt: string;
}

interface CategoryRow {
  id: string;
  name: string;
  created_at: Date;
}

const categoryView = (r: CategoryRow): CategoryView => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at.toISOString(),
});

export function createCategoryRepository(db: Knex) {
  return {
    /** Every category, in name order: the list stays short enough to read whole. */
    async listCategories(): Promise<CategoryView[]> {
      return (await db('categories').orderByRaw('lower(name), id').select<CategoryRow[]>('*')).map(categoryView);
    },

    async createCategory(name: string): Promise<CategoryView | 'category_exists'> {
      const [row] = await db('categories').insert({ name }).onConflict('name').ignore().returning<CategoryRow[]>('*');
      return row ? categoryView(row) : 'category_exists';
    },

    /** Deletes the category unless a product still uses it. */
    async deleteCategory(categoryId: string): Promise<'deleted' | 'unknown_category' | 'category_in_use'> {
      try {
        const deleted = await db('categories').where({ id: categoryId }).delete();
        return deleted > 0 ? 'deleted' : 'unknown_category';
      } catch (err) {
        // The products' foreign key refuses: some product is in this category.
        if ((err as { code?: string }).code === '23503') return 'category_in_use';
        throw err;
      }
    },
  };
}

export type CategoryRepository = ReturnType<typeof createCategoryRepository>;
