// Runs one command (the Temporal dev server) on behalf of a parent process and makes sure it never
// outlives that parent. Plain JavaScript so that node runs it as is, without a TypeScript loader:
//
//   node supervisor.js <grace-ms> <command> [args...]
//
// The parent starts this process detached (its own process group, so a Ctrl-C at the terminal,
// which signals the whole foreground group, does not reach the server) with a pipe on standard
// input that it never writes to. That pipe is closed by the kernel when the parent exits, however
// it exits (normal exit, uncaught error, a signal, SIGKILL), and this process then stops the
// command: SIGTERM, and SIGKILL if it has not exited after <grace-ms>. SIGTERM, SIGINT or SIGHUP
// sent to this process stop the command the same way. The command writes directly to this
// process's standard output and error (the parent's pipes). This process exits when the command
// does, with its exit code (128 + the signal number when it was ended by a signal).
'use strict';
const { spawn } = require('node:child_process');
const { constants } = require('node:os');

const [graceArg, command, ...args] = process.argv.slice(2);
const graceMs = Number(graceArg);
if (!command || !Number.isFinite(graceMs)) {
  process.stderr.write('usage: supervisor.js <grace-ms> <command> [args...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;

function stop() {
  if (stopping) return;
  stopping = true;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs).unref();
}

child.once('error', (err) => {
  process.stderr.write(`cannot run ${command}: ${err.message}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => {
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});

process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stop);
