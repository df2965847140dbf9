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
