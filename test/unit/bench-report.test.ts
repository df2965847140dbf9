// The full benchmark run's report: a dated JSON record, a chart and a table with each figure beside its same-run baseline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { writeReport } from '../../bench/report.js';

it('writes the record, the chart and RESULTS.md with machine facts and baselines', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
  const results = {
    availability: {
      bench: 'availability',
      p50_ms: 9.5,
      p99_ms: 18.2,
      baseline_p50_ms: 0.7,
      baseline_p99_ms: 4.1,
      rps: 300,
      baseline_rps: 3800,
      locations: 10000,
      stock_rows: 5000000,
      concurrency: 4,
      sweep: [
        { concurrency: 1, p99_ms: 6.1 },
        { concurrency: 2, p99_ms: 11.4 },
      ],
    },
    orders: {
      bench: 'orders',
      topology: 'processes',
      seconds_per_point: 30,
      orders_per_s: 4.2,
      peak_concurrency: 20,
      plateau: 0.95,
      plateau_against_bare: 0.97,
      ratio: 0.7,
      post_p99_ms: 1800,
      refusals_below_peak: 0,
      knee_concurrency: 10,
      refusals_below_knee: 0,
      history_events_per_order: 85,
      sweep: [
        {
          concurrency: 10,
          orders_per_s: 3.9,
          baseline_per_s: 5.5,
          ratio: 0.71,
          post_p50_ms: 120,
          post_p99_ms: 400,
          confirmed_p50_ms: 600,
          confirmed_p99_ms: 900,
          completed_p50_ms: 2000,
          completed_p99_ms: 5000,
          baseline_completed_p50_ms: 1500,
          refusals: 0,
          cpu_ms_per_order: { api: 40, worker: 110, bank: 8, postgres: 36, temporal: 140, total: 334 },
          baseline_cpu_ms_per_order: { worker: 60, temporal: 90, total: 150 },
        },
        { concurrency: 20, orders_per_s: 4.2, baseline_per_s: 6, ratio: 0.7, post_p99_ms: 1800, refusals: 0 },
      ],
    },
  };
  // An earlier report: its summary is replaced, its dated write-ups stay below the new one.
  fs.writeFileSync(
    path.join(dir, 'RESULTS.md'),
    '# Benchmark results\n\nRun of 2026-11-01.\n\n| old summary |\n\n## Contention, 2026-11-15\n\nA write-up.\n',
  );
  const report = writeReport(dir, results, new Date('2026-11-22T10:00:00Z'));
  expect(JSON.parse(fs.readFileSync(report.json, 'utf8'))).toMatchObject({
    machine: { cores: os.cpus().length },
    results,
  });
  const chart = fs.readFileSync(report.chart, 'utf8');
  expect(chart).toContain('<svg');
  expect(chart).toContain('18.2 ms');
  expect(chart).toContain('4.1 ms baseline');
  const markdown = fs.readFileSync(report.markdown, 'utf8');
  expect(markdown).toContain(`${os.cpus().length} cores`);
  expect(markdown).toContain(
    '| availability | p99 ms (p50 9.5) at concurrency 4, 10000 locations, 5000000 stock rows; p99 6.1 ms at concurrency 1, 11.4 ms at concurrency 2 | 18.2 | /healthz p99 4.1 |',
  );
  expect(markdown).toContain('| orders | peak orders/s (concurrency 20), plateau 0.95, POST p99 at most 1800 ms;');
  expect(markdown).toContain(
    'the plateau starts at concurrency 10 (the first within 10 % of the peak), with 0 refusals below it',
  );
  // The sweep: its chart beside the record, and a row per concurrency with CPU per order of each role.
  expect(markdown).toContain('![orders sweep](results/2026-11-22-orders-sweep.svg)');
  expect(markdown).toContain(
    '| 10 | 3.9 | 5.5 | 0.71 | 120 / 400 | 600 / 900 | 2000 / 5000 | 0 | 40 / 110 / 8 / 36 / 140 = 334 |',
  );
  expect(markdown).not.toContain('old summary');
  expect(markdown.indexOf('## Contention, 2026-11-15\n\nA write-up.')).toBeGreaterThan(
    markdown.indexOf('| 10 | 3.9 |'),
  );
  const sweepSvg = fs.readFileSync(path.join(dir, 'results', '2026-11-22-orders-sweep.svg'), 'utf8');
  expect(sweepSvg).toContain('<polyline');
  expect(sweepSvg).toContain('>4.2<');
  fs.rmSync(dir, { recursive: true, force: true });
});
