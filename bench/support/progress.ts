// A progress bar on stderr for long loads: redrawn in place on a terminal, one line per tenth otherwise (CI logs).
export interface Progress {
  /** `done` of `total` units finished. */
  update(done: number, note?: string): void;
  finish(note?: string): void;
}

const WIDTH = 30;

export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let lastTenth = -1;
  const render = (done: number, note: string) => {
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(fraction * WIDTH);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${seconds}s${note ? ` ${note}` : ''}`;
  };
  return {
    update(done, note = '') {
      if (stream.isTTY) {
        stream.write(`\r${render(done, note)}\x1b[K`);
        return;
      }
      const tenth = Math.floor((total === 0 ? 1 : done / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${render(done, note)}\n`);
      }
    },
    finish(note = '') {
      if (stream.isTTY) stream.write(`\r${render(total, note)}\x1b[K\n`);
      else if (lastTenth < 10) stream.write(`${render(total, note)}\n`);
    },
  };
}
