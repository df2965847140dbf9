// Checks that the Temporal dev server starts from the pinned CLI with our search attributes and stops cleanly.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { loadConfig, SEARCH_ATTRIBUTES } from '../../src/config.js';
import { assertPortFree, freePort } from '../../src/dev/ports.js';
import { INDEXED_VALUE_TYPES, findTemporalCli, startDevServer, type DevServer } from '../../src/dev/temporal.js';
import { processExists } from '../../src/launcher-watch.js';
import { eventually } from '../support/stack.js';

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
        Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]]),
      );
      const registered = Object.fromEntries(
        Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, customAttributes?.[name]]),
      );
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
    expect(pid).toBeGreaterThan(0);
    await server.stop();
    expect(server.process.exitCode !== null || server.process.signalCode !== null).toBe(true);
    expect(processExists(pid!)).toBe(false);
    await expect(assertPortFree(port, 'TEMPORAL_PORT', 'Temporal dev server')).resolves.toBeUndefined();
  });

  it("serves its Web UI pointed at the API's codec endpoint", { timeout: 120_000 }, async () => {
    const cliPath = await findTemporalCli(loadConfig());
    const ui = await startDevServer({
      cliPath,
      port: await freePort(),
      uiPort: await freePort(),
      uiCodecEndpoint: 'http://127.0.0.1:3000/codec',
      namespace: 'default',
    });
    try {
      // The UI's own settings, as the browser reads them: it decodes payloads through that endpoint.
      const settings = await eventually(
        () =>
          fetch(`${ui.uiUrl}/api/v1/settings`).then(
            (r) => (r.ok ? r.json() : undefined),
            () => undefined,
          ),
        (body) => body !== undefined,
      );
      expect(settings?.Codec?.Endpoint).toBe('http://127.0.0.1:3000/codec');
    } finally {
      await ui.stop();
    }
  });

  it(
    'stops when the process that started it is killed without a chance to clean up',
    { timeout: 120_000 },
    async () => {
      const cliPath = await findTemporalCli(loadConfig());
      const port = await freePort();
      const module = fileURLToPath(new URL('../../src/dev/temporal.ts', import.meta.url));
      const starter = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `
      const { startDevServer } = await import(${JSON.stringify(module)});
      await startDevServer({ cliPath: ${JSON.stringify(cliPath)}, port: ${port}, namespace: 'default' });
      console.log('ready');
      setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        await new Promise<string>((resolve) =>
          readline.createInterface({ input: starter.stdout! }).once('line', resolve),
        );
        const free = () =>
          assertPortFree(port, 'TEMPORAL_PORT', 'Temporal dev server').then(
            () => true,
            () => false,
          );
        expect(await free()).toBe(false);
        starter.kill('SIGKILL');
        const deadline = Date.now() + 20_000;
        while (!(await free()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        expect(await free()).toBe(true);
      } finally {
        starter.kill('SIGKILL');
      }
    },
  );
});
