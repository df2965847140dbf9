// Port checks for the local stack, with messages that name the setting to change.
import net from 'node:net';

/** A port the OS considers free right now (it may be taken again before use). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Fails with a message naming the setting to change when something already listens on `port`. */
export async function assertPortFree(port: number, envVar: string, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new Error(`Port ${port} is already in use (${what}). Stop whatever uses it or set ${envVar} to a free port.`),
        );
      } else {
        reject(new Error(`Cannot use port ${port} (${what}, ${envVar}): ${err.message}`));
      }
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve()));
  });
}

/**
 * A free port below 32768. Temporal's SQL membership table keeps ports as smallint, and the OS hands out ephemeral
 * ports above that.
 */
export async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}
