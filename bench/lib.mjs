// Shared helpers of the benchmark files: sample statistics, the machine-readable result each
// file hands to run.mjs, and the child-process plumbing (servers run in a child so that
// `process.cpuUsage()` of the bench process measures the client alone).
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/**
 * min / median / mean / p99 / max (and the count) of a list of numbers.
 * @param {readonly number[]} samples
 */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    n: sorted.length,
    min: sorted[0],
    median: at(0.5),
    mean: sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
  };
}

/** CPU time (user + system) of this process, in µs, spent by `fn`. */
export async function cpuOf(fn) {
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, cpuUs: c.user + c.system };
}

/**
 * Hands this benchmark's figures to run.mjs (a JSON file named by STIPEND_BENCH_RESULT); a
 * no-op when the file is run on its own. BigInts are written as strings.
 */
export function emit(result) {
  const file = process.env.STIPEND_BENCH_RESULT;
  if (!file) return;
  writeFileSync(
    file,
    JSON.stringify(result, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)),
  );
}

/**
 * Forks `file --serve` and waits for its `{ type: 'ready' }` message. The child is killed on
 * this process's exit and signals. Returns the ready message, `ask` and `stop`.
 */
export async function startChild(file) {
  const child = fork(file, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kill = () => child.kill('SIGTERM');
  process.on('exit', kill);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      kill();
      process.exit(130);
    });
  }
  const ready = await new Promise((resolve, reject) => {
    child.on('message', (m) => m.type === 'ready' && resolve(m));
    child.once('exit', (code) => reject(new Error(`the server process exited (${code})`)));
  });
  /** Sends `message` and resolves with the child's first answer of type `reply`. */
  const ask = (message, reply) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m.type === reply) {
          child.off('message', on);
          resolve(m);
        }
      };
      child.on('message', on);
      child.send(message);
    });
  const stop = async () => {
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send({ type: 'stop' });
    await exited;
    process.off('exit', kill);
  };
  return { child, ready, ask, stop };
}
