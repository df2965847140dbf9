// Passwords: argon2id with OWASP's recommended parameters, hashed off the event loop by @node-rs/argon2.
import { hash, verify } from '@node-rs/argon2';

/** OWASP's first choice for argon2id: 19 MiB of memory, two passes, one lane. */
export const ARGON2_PARAMETERS = {
  // Algorithm.Argon2id: the package's enum is a const enum, which isolated modules cannot read.
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMETERS);
}

/**
 * A hash of no one's password, verified in place of a missing account's, so an unknown email costs the same time as
 * a wrong password and timing cannot tell which emails have accounts.
 */
let decoy: Promise<string> | undefined;

/** Whether the password matches the stored hash; with no hash (no account, or none set) it still takes a verify's time and is false. */
export async function verifyPassword(storedHash: string | null | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    decoy ??= hashPassword('a password that no account has');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(storedHash, password);
  } catch {
    // A hash this library cannot read is a password nobody can log in with, not a server error.
    return false;
  }
}
