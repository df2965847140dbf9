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
    pairs.push({ label: 'POST→confirmed p50', ours: num('confirmed_p50_ms') });
    pairs.push({ label: 'POST→confirmed p99', ours: num('confirmed_p99_ms') });
    pairs.push({
      label: 'POST→completed p50',
      ours: num('completed_p50_ms'),
      baseline: num('baseline_completed_p50_ms'),
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
    '',
    `Raw figures: [results/${day}.json](results/${day}.json).`,
    '',
  ];
  const markdown = path.join(dir, 'RESULTS.md');
  fs.writeFileSync(markdown, lines.join('\n'));
  return { json, markdown, chart };
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
        `| availability | p99 ms (p50 ${v('p50_ms')}) at concurrency ${v('concurrency')}, ${v('locations')} locations, ${v('stock_rows')} stock rows${curve} | ${v('p99_ms')} | /healthz p99 ${v('baseline_p99_ms')} | rps ${v('rps')} vs ${v('baseline_rps')} |`,
      ];
    }
    case 'contention':
      return [
        `| contention | reservations/s, ${v('buyers')} buyers for ${v('units')} units, exactly won: ${v('exactly_units_won')} | ${v('reservations_per_s')} | raw UPDATE ${v('raw_updates_per_s')}/s | ${v('ratio')} |`,
      ];
    case 'orders':
      return [
        `| orders | orders/s; POST→completed p99 ${v('completed_p99_ms')} ms; ${v('history_events_per_order')} history events/order | ${v('orders_per_s')} | bare workflow ${v('baseline_per_s')}/s | ${v('ratio')} |`,
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
