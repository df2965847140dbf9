// A closed-loop HTTP load generator run as its own process (so it never shares an event loop with the server it measures).
// The parent sends one job; this process answers with the latency of every request finished in the measured window.
import http from 'node:http';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface HttpLoadJob {
  baseUrl: string;
  /** Requested round-robin, each virtual user starting at its own offset. */
  paths: string[];
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface HttpLoadResult {
  /** Milliseconds, in completion order. */
  latencies: number[];
  /** For each latency, the index in `paths` of the request it measures. */
  pathIndexes: number[];
  seconds: number;
  statuses: Record<string, number>;
  errors: number;
}

/** Runs `job` in a child process and resolves with its measurements. */
export function runHttpLoad(job: HttpLoadJob): Promise<HttpLoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url), [], { execArgv: ['--import', 'tsx'] });
    child.once('message', (result) => resolve(result as HttpLoadResult));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the HTTP load process exited with ${code}`));
    });
    child.send(job);
  });
}

function get(agent: http.Agent, url: URL, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, agent, method: 'GET' }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function drive(job: HttpLoadJob): Promise<HttpLoadResult> {
  const url = new URL(job.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const latencies: number[] = [];
  const pathIndexes: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const measureFrom = performance.now() + job.warmupMs;
  const end = measureFrom + job.durationMs;
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, user) => {
      let i = Math.floor((user * job.paths.length) / job.concurrency);
      while (performance.now() < end) {
        const index = i++ % job.paths.length;
        const path = job.paths[index]!;
        const started = performance.now();
        try {
          const status = await get(agent, url, path);
          if (started >= measureFrom) {
            latencies.push(performance.now() - started);
            pathIndexes.push(index);
            statuses[status] = (statuses[status] ?? 0) + 1;
          }
        } catch {
          errors++;
        }
      }
    }),
  );
  agent.destroy();
  return { latencies, pathIndexes, seconds: job.durationMs / 1000, statuses, errors };
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', (job: HttpLoadJob) => {
    void drive(job).then((result) => process.send!(result, () => process.exit(0)));
  });
}
