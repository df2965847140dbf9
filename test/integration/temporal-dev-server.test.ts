// Checks that the Temporal dev server starts from the pinned CLI with our search attributes and stops cleanly.
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { loadConfig, SEARCH_ATTRIBUTES } from '../../src/config.js';
import { assertPortFree, freePort } from '../../src/dev/ports.js';
import { findTemporalCli, startDevServer, type DevServer } from '../../src/dev/temporal.js';
import { processExists } from '../../src/dev/launcher.js';

// Values of temporal.api.enums.v1.IndexedValueType for the types we use.
const KEYWORD = 2;
const DATETIME = 6;

describe('Temporal dev server', () => {
  let server: DevServer | undefined;

  afterAll(async () => {
    await server?.stop();
  });

  it('starts with our search attributes, refuses a taken port, and stops', { timeout: 120_000 }, async () => {
    const cliPath = await findTemporalCli(loadConfig());
    const port = await freePort();
    server = await startDevServer({ cliPath, port, namespace: 'default' });
    expect(server.address).toBe(`127.0.0.1:${port}`);
    expect(server.uiUrl).toBeUndefined();

    const connection = await Connection.connect({ address: server.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      const expected = Object.fromEntries(
        Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, type === 'Datetime' ? DATETIME : KEYWORD]),
      );
      const registered = Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, customAttributes?.[name]]));
      expect(registered).toEqual(expected);
    } finally {
      await connection.close();
    }

    await expect(startDevServer({ cliPath, port, namespace: 'default' })).rejects.toThrow(
      `Port ${port} is already in use (Temporal dev server). Stop whatever uses it or set TEMPORAL_PORT`,
    );
    await expect(
      startDevServer({ cliPath, port: await freePort(), uiPort: port, namespace: 'default' }),
    ).rejects.toThrow(/TEMPORAL_UI_PORT/);

    const pid = server.process.pid;
    expect(pid).toBeDefined();
    await server.stop();
    expect(server.process.exitCode !== null || server.process.signalCode !== null).toBe(true);
    expect(processExists(pid!)).toBe(false);
    await expect(assertPortFree(port, 'TEMPORAL_PORT', 'Temporal dev server')).resolves.toBeUndefined();
  });
});
