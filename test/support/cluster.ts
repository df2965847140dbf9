// The cluster tier's parts: the pinned Temporal server (built with Go the first time) and Debian's PostgreSQL
// (installed with apt when missing). Undefined when both can be had, else the reason the tier is skipped.
import { loadConfig } from '../../src/config.js';
import { findDebianPostgres } from '../../src/dev/cluster-postgres.js';
import { errorMessage } from '../../src/dev/temporal-install.js';
import { findTemporalServer } from '../../src/dev/temporal-server-install.js';

export async function clusterUnavailable(): Promise<string | undefined> {
  const log = (message: string) => console.error(`[cluster tier] ${message}`);
  try {
    await findTemporalServer(loadConfig(), log);
    await findDebianPostgres(log);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}
