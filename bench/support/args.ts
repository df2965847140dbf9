// Reads `--name value` flags of a benchmark, with a default and a check that names the flag when it fails.
import { parseArgs } from 'node:util';

export function numberFlag(
  args: string[],
  name: string,
  fallback: number,
  ok: (n: number) => boolean = (n) => Number.isInteger(n) && n > 0,
): number {
  const { values } = parseArgs({ args, strict: false, options: { [name]: { type: 'string' } } });
  const raw = values[name];
  const value = typeof raw === 'string' ? Number(raw) : fallback;
  if (!Number.isFinite(value) || !ok(value)) throw new Error(`--${name} ${String(raw)} is out of range`);
  return value;
}
