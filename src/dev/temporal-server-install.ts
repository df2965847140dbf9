// Finds or builds the pinned Temporal server and its SQL schema tool for `npm run cluster`: from the tools folder, else
// `go install` from the Go module proxy into it (minutes, once per machine).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import {
  errorMessage,
  findOnPath,
  installAtomically,
  isExecutable,
  run,
  silent,
  type Log,
} from './temporal-install.js';

// Pinned so every machine runs the same server; docker-compose.yml runs the images of the same version.
export const TEMPORAL_SERVER_VERSION = '1.32.2';
// The server's go.mod asks for this toolchain; the Go command fetches it from the module proxy when it is older.
const GO_TOOLCHAIN = 'go1.26.10';
/** The one server config template and dynamic config: `npm run cluster` and docker-compose.yml both run on them. */
export const TEMPORAL_CONFIG_TEMPLATE = fileURLToPath(new URL('../../deploy/temporal/config.yaml', import.meta.url));
export const TEMPORAL_DYNAMIC_CONFIG = fileURLToPath(
  new URL('../../deploy/temporal/dynamicconfig.yaml', import.meta.url),
);
const SERVER_PACKAGES = ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql'];

export interface TemporalServerBinaries {
  version: string;
  /** `temporal-server start --service …` */
  server: string;
  /** `temporal-sql-tool`: creates the databases and applies the schema embedded in it. */
  sqlTool: string;
}

const binariesIn = (dir: string): TemporalServerBinaries => ({
  version: TEMPORAL_SERVER_VERSION,
  server: path.join(dir, 'temporal-server'),
  sqlTool: path.join(dir, 'temporal-sql-tool'),
});

async function findGo(): Promise<string | undefined> {
  return (
    (await findOnPath('go')) ?? ((await isExecutable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined)
  );
}

/** The pinned server binaries, built with Go into the tools folder the first time. */
export async function findTemporalServer(config: Config, log: Log = silent): Promise<TemporalServerBinaries> {
  const target = path.join(config.toolsDir, 'temporal-server', TEMPORAL_SERVER_VERSION);
  const isValid = async (dir: string) =>
    (await isExecutable(binariesIn(dir).server)) && (await isExecutable(binariesIn(dir).sqlTool));
  if (await isValid(target)) return binariesIn(target);

  const go = await findGo();
  if (!go)
    throw new Error(
      `The Temporal server ${TEMPORAL_SERVER_VERSION} is built with Go, and Go is not installed. Install Go 1.21 or later ` +
        '(from go.dev/dl into /usr/local/go, or your package manager; older versions cannot fetch the toolchain the server ' +
        `needs), or put temporal-server and temporal-sql-tool ${TEMPORAL_SERVER_VERSION} into ${target}.`,
    );
  log(
    `Building the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with ${go} into ${target} ` +
      '(once per machine; about 5 minutes on 2 cores)',
  );
  const started = Date.now();
  try {
    await installAtomically({
      toolsDir: path.dirname(target),
      target,
      binary: 'temporal-server',
      isValid,
      fill: async (temp) => {
        await run(go, ['install', ...SERVER_PACKAGES.map((pkg) => `${pkg}@v${TEMPORAL_SERVER_VERSION}`)], {
          env: { ...process.env, GOBIN: temp, GOTOOLCHAIN: GO_TOOLCHAIN },
        });
        // `go install` names each binary after its folder.
        await fsp.rename(path.join(temp, 'server'), path.join(temp, 'temporal-server'));
        await fsp.rename(path.join(temp, 'sql'), path.join(temp, 'temporal-sql-tool'));
      },
    });
  } catch (err) {
    throw new Error(`Could not build the Temporal server ${TEMPORAL_SERVER_VERSION} with Go: ${errorMessage(err)}`);
  }
  log(`Built the Temporal server in ${Math.round((Date.now() - started) / 1000)} s`);
  return binariesIn(target);
}
