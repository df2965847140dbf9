// What the customer page reads from its address and how it names an order's status, delivered or collected.
import { describe, expect, it } from 'vitest';
import { readFilters } from '../../web/customer-search.js';
import { statusWords } from '../../web/order-words.js';

describe('the search in the address', () => {
  it('reads every filter back', () => {
    const category = '0a6f3a52-6f0e-4a4e-9d7f-2d1c4f5b6a7e';
    expect(
      readFilters(
        new URLSearchParams({ q: 'rye', category, tags: 'vegan,dairy_free', maxPriceCents: '300', sort: 'price' }),
      ),
    ).toEqual({ q: 'rye', category, tags: ['vegan', 'dairy_free'], maxPriceCents: 300, sort: 'price' });
  });

  it('leaves out what the API would refuse, so an edited address still searches', () => {
    expect(
      readFilters(
        new URLSearchParams({ category: 'bread', tags: 'vegan,keto,vegan', maxPriceCents: '-5', sort: 'colour' }),
      ),
    ).toEqual({ q: '', category: null, tags: ['vegan'], maxPriceCents: null, sort: 'name' });
    expect(readFilters(new URLSearchParams({ maxPriceCents: '2.5' })).maxPriceCents).toBeNull();
  });
});

describe('status words', () => {
  it('say Collected for a completed collection order and Delivered for a delivery', () => {
    expect(statusWords('completed', 'collection')).toBe('Collected');
    expect(statusWords('completed', 'delivery')).toBe('Delivered');
    expect(statusWords('completed')).toBe('Delivered');
  });

  it('say an uncollected order is not refunded, and a prepped collection order waits for no driver', () => {
    expect(statusWords('uncollected', 'collection')).toBe('Not collected — not refunded');
    expect(statusWords('prepped', 'collection')).toBe('Prepared');
    expect(statusWords('prepped', 'delivery')).toBe('Ready, waiting for a driver');
  });
});
