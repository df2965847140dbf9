import { describe, expect, it } from 'vitest';
import { positionalSql } from '../../src/db/prepared.js';

describe('positionalSql', () => {
  it('binds each name once, in order of first appearance', () => {
    expect(positionalSql('SELECT :a, :b, :a + :c, :b')).toEqual({
      text: 'SELECT $1, $2, $1 + $3, $2',
      names: ['a', 'b', 'c'],
    });
  });

  it('leaves casts, array slices and words with colons alone', () => {
    expect(
      positionalSql(
        'SELECT :id::uuid, (:ids::uuid[])[1:n.start - 1], x::text, ARRAY[1,2][2:3] FROM t WHERE t.k = :key_2',
      ),
    ).toEqual({
      text: 'SELECT $1::uuid, ($2::uuid[])[1:n.start - 1], x::text, ARRAY[1,2][2:3] FROM t WHERE t.k = $3',
      names: ['id', 'ids', 'key_2'],
    });
  });
});
