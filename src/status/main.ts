#!/usr/bin/env node
// `npm run status -- [--host H] [--port P] [--watch] [--interval MS]`: the sync's progress as a
// person watches it. On a terminal, one live progress bar per namespace during the copy and per
// side of the verifier (cli-progress); elsewhere (a pipe, a log), plain lines.
import { Command } from 'commander';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { plainLines, statusView, type StatusView } from './render';

interface StatusOptions {
  host: string;
  port: number;
  watch: boolean;
  interval: number;
}

async function fetchProgress(options: StatusOptions): Promise<Record<string, any>> {
  const response = await fetch(`http://${options.host}:${options.port}/api/v1/progress`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as Record<string, any>;
  if (body.success !== true) throw new Error(`${body.error}: ${body.errorDescription}`);
  return body.progress as Record<string, any>;
}

/** Live bars on a terminal: a text line for the summary and each warning, a bar per entry. */
class TerminalView {
  private readonly bars = new MultiBar(
    {
      format: ' {label} [{bar}] {percentage}% | {detail}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
      forceRedraw: true,
    },
    Presets.shades_classic,
  );
  private readonly lines = new Map<string, SingleBar>();

  show(view: StatusView): void {
    const wanted = new Map<
      string,
      { text?: string; value: number; total: number; label: string; detail: string }
    >();
    wanted.set('#summary', { text: view.summary, value: 0, total: 1, label: '', detail: '' });
    for (const entry of view.entries) wanted.set(entry.label, { ...entry });
    view.warnings.forEach((warning, i) =>
      wanted.set(`#warning${i}`, { text: `warning: ${warning}`, value: 0, total: 1, label: '', detail: '' }),
    );
    for (const [key, bar] of this.lines) {
      if (!wanted.has(key)) {
        this.bars.remove(bar);
        this.lines.delete(key);
      }
    }
    for (const [key, line] of wanted) {
      let bar = this.lines.get(key);
      if (!bar) {
        bar =
          line.text === undefined
            ? this.bars.create(line.total, line.value, { label: line.label, detail: line.detail })
            : this.bars.create(1, 0, { text: line.text }, { format: ' {text}' });
        this.lines.set(key, bar);
      }
      if (line.text === undefined) {
        bar.setTotal(line.total);
        bar.update(line.value, { label: line.label, detail: line.detail });
      } else bar.update(0, { text: line.text });
    }
  }

  stop(): void {
    this.bars.stop();
  }
}

export async function runStatus(argv: string[]): Promise<void> {
  const program = new Command('mongosync-status')
    .option('--host <host>', 'API host', '127.0.0.1')
    .option('--port <port>', 'API port', (v) => Number.parseInt(v, 10), 27182)
    .option('--watch', 'keep showing the progress until interrupted', false)
    .option('--interval <ms>', 'how often --watch reads the progress', (v) => Number.parseInt(v, 10), 1000)
    .parse(argv, { from: 'user' });
  const options = program.opts<StatusOptions>();
  const terminal = process.stdout.isTTY ? new TerminalView() : null;
  const stop = () => {
    terminal?.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (;;) {
    let view: StatusView;
    try {
      view = statusView(await fetchProgress(options));
    } catch (err) {
      view = { summary: `cannot read the progress: ${(err as Error).message}`, entries: [], warnings: [] };
      if (!options.watch) {
        process.stderr.write(`${view.summary}\n`);
        process.exitCode = 1;
        return;
      }
    }
    if (terminal) terminal.show(view);
    else process.stdout.write(`${plainLines(view).join('\n')}\n`);
    if (!options.watch) break;
    await new Promise((resolve) => setTimeout(resolve, options.interval));
  }
  terminal?.stop();
}

if (require.main === module) {
  runStatus(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`mongosync-status: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
