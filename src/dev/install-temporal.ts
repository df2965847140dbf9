// Installs the pinned Temporal CLI and time-skipping test server into the tools folder (if needed) and prints their paths.
import { loadConfig } from '../config.js';
import { findTemporalCli, findTestServer } from './temporal.js';

const log = (msg: string) => console.error(msg);

try {
  const config = loadConfig();
  const cli = await findTemporalCli(config, log);
  const testServer = await findTestServer(config, log);
  console.log(`temporal CLI:         ${cli}`);
  console.log(`temporal test server: ${testServer}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
