// Writes the report of a full benchmark run: results/<date>.json, an SVG chart of latencies, and RESULTS.md with machine facts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Result = Record<string, unknown>;

/** Latency figures of a result that have a baseline to compare with, by bench. */
function latencyPairs(name: string, r: Result): { label: string; ours: number; baseline?: number }[] {
  const num = (key: string) => (typeof r[key] === 'number' ? (r[key] as number) : undefined);
  const pairs: { label: string; ours?: number; baseline?: number }[] = [];
  if (name === 'availability') {
    pairs.push({ label: 'availability p50', ours: num('p50_ms'), baseline: num('baseline_p50_ms') });
    pairs.push({ label: 'availability p99', ours: num('p99_ms'), baseline: num('baseline_p99_ms') });
  } else if (name === 'orders') {
    // The sweep's lowest concurrency: latency before any queueing.
    const first = (Array.isArray(r.sweep) ? (r.sweep as Result[]) : [])[0] ?? r;
    const at = (key: string) => (typeof first[key] === 'number' ? (first[key] as number) : undefined);
    pairs.push({ label: 'POST→confirmed p50', ours: at('confirmed_p50_ms') });
    pairs.push({ label: 'POST→confirmed p99', ours: at('confirmed_p99_ms') });
    pairs.push({
      label: 'POST→completed p50',
      ours: at('completed_p50_ms'),
      baseline: at('baseline_completed_p50_ms'),
    });
  } else if (name === 'sse') {
    const broadcast = r.broadcast as Result | undefined;
    const baseline = r.baselineNotifyListen as Result | undefined;
    pairs.push({
      label: 'SSE p50',
      ours: broadcast?.p50Ms as number | undefined,
      baseline: baseline?.p50Ms as number | undefined,
    });
    pairs.push({
      label: 'SSE p99',
      ours: broadcast?.p99Ms as number | undefined,
      baseline: baseline?.p99Ms as number | undefined,
    });
  }
  return pairs.filter((p): p is { label: string; ours: number; baseline?: number } => p.ours !== undefined);
}

/** A horizontal bar chart on a logarithmic scale, ours against the baseline measured in the same run. */
export function latencyChart(results: Record<string, Result>): string {
  const rows = Object.entries(results).flatMap(([name, r]) => latencyPairs(name, r));
  const width = 760;
  const rowHeight = 34;
  const left = 170;
  const height = 40 + rows.length * rowHeight;
  const max = Math.max(1, ...rows.flatMap((r) => [r.ours, r.baseline ?? 0]));
  const x = (ms: number) => left + ((width - left - 90) * Math.log10(1 + ms)) / Math.log10(1 + max);
  const bars = rows.map((row, i) => {
    const y = 30 + i * rowHeight;
    const base =
      row.baseline === undefined
        ? ''
        : `<rect x="${left}" y="${y + 16}" width="${x(row.baseline) - left}" height="10" fill="#9aa5b1"/><text x="${x(row.baseline) + 4}" y="${y + 25}" font-size="11">${row.baseline} ms baseline</text>`;
    return `<text x="8" y="${y + 12}" font-size="12">${row.label}</text><rect x="${left}" y="${y}" width="${x(row.ours) - left}" height="14" fill="#2f6fde"/><text x="${x(row.ours) + 4}" y="${y + 11}" font-size="11">${row.ours} ms</text>${base}`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="8" y="18" font-size="14" font-weight="bold">Latency (log scale): ours in blue, same-run baseline in grey</text>${bars.join('')}</svg>\n`;
}

/** One point of the orders bench's concurrency sweep, as its JSON line carries it. */
export interface SweepPoint {
  concurrency: number;
  orders_per_s: number;
  baseline_per_s: number;
  post_p99_ms: number;
  [key: string]: unknown;
}

/** Two panels over the sweep's concurrency: completed orders/s (ours against the bare workflow) and POST p99. */
export function sweepChart(sweep: SweepPoint[]): string {
  const width = 760;
  const panel = 220;
  const left = 60;
  const right = width - 30;
  const xs = sweep.map((_, i) => left + (sweep.length === 1 ? 0 : ((right - left) * i) / (sweep.length - 1)));
  const line = (values: number[], top: number, max: number, color: string, dash = '') => {
    const y = (v: number) => top + panel - 30 - ((panel - 50) * v) / max;
    const points = values.map((v, i) => `${xs[i]!.toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const dots = values
      .map(
        (v, i) =>
          `<circle cx="${xs[i]!.toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/><text x="${(xs[i]! + 5).toFixed(1)}" y="${(y(v) - 5).toFixed(1)}" font-size="10" fill="${color}">${v}</text>`,
      )
      .join('');
    return `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2" ${dash}/>${dots}`;
  };
  const axis = (top: number, title: string) =>
    `<text x="8" y="${top + 16}" font-size="13" font-weight="bold">${title}</text><line x1="${left}" y1="${top + panel - 30}" x2="${right}" y2="${top + panel - 30}" stroke="#ccc"/>` +
    sweep
      .map((p, i) => `<text x="${xs[i]! - 8}" y="${top + panel - 14}" font-size="11">${p.concurrency}</text>`)
      .join('');
  const rate = Math.max(1, ...sweep.flatMap((p) => [p.orders_per_s, p.baseline_per_s]));
  const post = Math.max(2000, ...sweep.map((p) => p.post_p99_ms));
  const twoSeconds = panel + panel - 30 - ((panel - 50) * 2000) / post;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${2 * panel + 10}" font-family="sans-serif">${axis(0, 'Completed orders/s by concurrency: ours (blue), bare workflow (grey)')}${line(
    sweep.map((p) => p.baseline_per_s),
    0,
    rate,
    '#9aa5b1',
    'stroke-dasharray="5,3"',
  )}${line(
    sweep.map((p) => p.orders_per_s),
    0,
    rate,
    '#2f6fde',
  )}${axis(panel, 'POST /v1/orders p99 ms by concurrency (red line: 2 s)')}<line x1="${left}" y1="${twoSeconds}" x2="${right}" y2="${twoSeconds}" stroke="#d64545" stroke-dasharray="4,3"/>${line(
    sweep.map((p) => p.post_p99_ms),
    panel,
    post,
    '#2f6fde',
  )}</svg>\n`;
}

/** The sweep as a Markdown table: rates, latencies, refusals and CPU per completed order of each role. */
export function sweepTable(sweep: SweepPoint[]): string[] {
  const cpu = (p: SweepPoint, key: string) => {
    const c = p[key] as Record<string, number> | null | undefined;
    return c
      ? `${c.api ?? '–'} / ${c.worker} / ${c.bank ?? '–'} / ${c.postgres ?? '–'} / ${c.temporal} = ${c.total}`
      : '';
  };
  return [
    '| concurrency | ours/s | bare/s | ratio | POST p50 / p99 ms | confirmed p50 / p99 ms | completed p50 / p99 ms | refusals | CPU ms/order: api / worker / bank / postgres / temporal = total | bare: worker / temporal = total |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...sweep.map(
      (p) =>
        `| ${p.concurrency} | ${p.orders_per_s} | ${p.baseline_per_s} | ${String(p.ratio)} | ${String(p.post_p50_ms)} / ${p.post_p99_ms} | ${String(p.confirmed_p50_ms)} / ${String(p.confirmed_p99_ms)} | ${String(p.completed_p50_ms)} / ${String(p.completed_p99_ms)} | ${String(p.refusals)} | ${cpu(p, 'cpu_ms_per_order')} | ${cpu(p, 'baseline_cpu_ms_per_order')} |`,
    ),
  ];
}

export function writeReport(
  dir: string,
  results: Record<string, Result>,
  date = new Date(),
): { json: string; markdown: string; chart: string } {
  const day = date.toISOString().slice(0, 10);
  const machine = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  const json = path.join(dir, 'results', `${day}.json`);
  fs.mkdirSync(path.dirname(json), { recursive: true });
  fs.writeFileSync(json, `${JSON.stringify({ date: date.toISOString(), machine, results }, null, 2)}\n`);
  const chart = path.join(dir, 'results', `${day}-latency.svg`);
  fs.writeFileSync(chart, latencyChart(results));
  const lines = [
    '# Benchmark results',
    '',
    `Run of ${date.toISOString()} by \`npm run bench\` on ${machine.cores} cores (${machine.cpu}), ${machine.memory_gib} GiB, Node ${machine.node}; load average at the end ${machine.load_average.join(' / ')}.`,
    'Absolute times drift on shared machines: compare each figure with the baseline measured in the same run.',
    '',
    `![latencies](results/${path.basename(chart)})`,
    '',
    '| bench | figure | value | baseline | ratio |',
    '|---|---|---|---|---|',
    ...Object.entries(results).flatMap(([name, r]) => summaryRows(name, r)),
    ...ordersSweep(dir, day, results.orders),
    '',
    `Raw figures: [results/${day}.json](results/${day}.json).`,
    '',
  ];
  const markdown = path.join(dir, 'RESULTS.md');
  fs.writeFileSync(markdown, [...lines, ...datedSections(markdown)].join('\n'));
  return { json, markdown, chart };
}

/**
 * The dated write-ups an earlier RESULTS.md holds below its full-run summary (sections headed `## …, YYYY-MM-DD`),
 * kept under the new summary: the previous summary itself is replaced, its raw figures stay in results/.
 */
function datedSections(markdown: string): string[] {
  if (!fs.existsSync(markdown)) return [];
  const previous = fs.readFileSync(markdown, 'utf8').split('\n');
  const first = previous.findIndex((line) => /^## .*\d{4}-\d{2}-\d{2}/.test(line));
  return first < 0 ? [] : previous.slice(first);
}

/** The orders sweep's chart (written beside the dated results) and table, when the run has one. */
function ordersSweep(dir: string, day: string, orders: Result | undefined): string[] {
  const sweep = orders && Array.isArray(orders.sweep) ? (orders.sweep as SweepPoint[]) : [];
  if (sweep.length === 0) return [];
  const chart = path.join(dir, 'results', `${day}-orders-sweep.svg`);
  fs.writeFileSync(chart, sweepChart(sweep));
  return [
    '',
    `## Orders under load, ${day} (the full run)`,
    '',
    `${String(orders!.topology)}; ${String(orders!.seconds_per_point)} s measured per point. Peak ${String(orders!.orders_per_s)} orders/s at concurrency ${String(orders!.peak_concurrency)}; plateau ${String(orders!.plateau)} (lowest rate at or past the peak over the peak; ${String(orders!.plateau_against_bare)} with each rate as a share of the bare workflow's beside it); ${String(orders!.refusals_below_peak)} refusals below the peak; the plateau starts at concurrency ${String(orders!.knee_concurrency)} (the first within 10 % of the peak), with ${String(orders!.refusals_below_knee)} refusals below it.`,
    '',
    `![orders sweep](results/${path.basename(chart)})`,
    '',
    ...sweepTable(sweep),
  ];
}

function summaryRows(name: string, r: Result): string[] {
  const v = (key: string) => (r[key] === undefined ? '' : String(r[key]));
  switch (name) {
    case 'availability': {
      const sweep = Array.isArray(r.sweep) ? (r.sweep as Result[]) : [];
      const curve =
        sweep.length === 0
          ? ''
          : `; p99 ${sweep.map((p) => `${String(p.p99_ms)} ms at concurrency ${String(p.concurrency)}`).join(', ')}`;
      return [
        `| availability | p99 ms (p50 ${v('p50_ms')}) at concurrency ${v('concurrency')}, ${v('locations')} locations, ${v('stock_rows')} stock rows${curve} | ${v('p99_ms')} | /healthz p99 ${v('baseline_p99_ms')} | ${r.p99_to_healthz_p99 === undefined ? '' : `p99 ${v('p99_to_healthz_p99')}×; `}rps ${v('rps')} vs ${v('baseline_rps')} |`,
      ];
    }
    case 'contention':
      return [
        `| contention | reservations/s, ${v('buyers')} buyers for ${v('units')} units, exactly won: ${v('exactly_units_won')} | ${v('reservations_per_s')} | raw UPDATE ${v('raw_updates_per_s')}/s${r.raw_knex_updates_per_s === undefined ? '' : ` (through knex ${v('raw_knex_updates_per_s')}/s)`} | ${v('ratio')}${r.ratio_to_knex_update === undefined ? '' : ` (${v('ratio_to_knex_update')})`} |`,
      ];
    case 'orders':
      return [
        `| orders | peak orders/s (concurrency ${v('peak_concurrency')}), plateau ${v('plateau')}, POST p99 at most ${v('post_p99_ms')} ms; ${v('history_events_per_order')} history events/order; lowest ratio over the sweep → | ${v('orders_per_s')} | bare workflow, same concurrency | ${v('ratio')} |`,
      ];
    case 'sse': {
      const broadcast = (r.broadcast ?? {}) as Result;
      const baseline = (r.baselineNotifyListen ?? {}) as Result;
      return [
        `| sse | p99 ms, ${v('streams')} streams, change→client | ${String(broadcast.p99Ms ?? '')} | NOTIFY→LISTEN p99 ${String(baseline.p99Ms ?? '')} | |`,
      ];
    }
    case 'webhooks':
      return [
        `| webhooks | deliveries/s, ${v('orders')} orders × ${v('endpoints')} endpoints; commit→2xx p99 ${v('p99_ms')} ms; ${v('history_events_per_delivery')} history events, ${v('actions_per_delivery')} actions/delivery; lost ${v('lost')}, out of order ${v('out_of_order')} | ${v('deliveries_per_s')} | bare POST loop ${v('baseline_per_s')}/s | ${v('ratio')} |`,
      ];
    default:
      return [`| ${name} | | ${JSON.stringify(r).slice(0, 80)} | | |`];
  }
}
