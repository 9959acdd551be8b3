import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function terminal(isTTY: boolean) {
  let text = '';
  return {
    out: { isTTY, write: (chunk: string | Uint8Array) => (text += String(chunk)) },
    text: () => text,
  };
}

describe('the progress line', () => {
  it('shows a wait only after two seconds, on a terminal, and clears it at the end', async () => {
    let now = 0;
    const tty = terminal(true);
    const progress = createProgress(tty.out, { now: () => now, tickMs: 5 });
    progress.step('waiting for https://api.example.com');
    now = 1900;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tty.text()).toBe('');
    now = 3100;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tty.text()).toContain('· waiting for https://api.example.com (3 s)');
    progress.stop();
    expect(tty.text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('is silent when stderr is not a terminal, and while paused', async () => {
    let now = 0;
    const pipe = terminal(false);
    const progress = createProgress(pipe.out, { now: () => now, tickMs: 5 });
    progress.step('waiting');
    now = 10_000;
    await new Promise((resolve) => setTimeout(resolve, 20));
    progress.stop();
    expect(pipe.text()).toBe('');
    const tty = terminal(true);
    const paused = createProgress(tty.out, { now: () => now, tickMs: 5 });
    paused.step('waiting');
    paused.pause();
    now = 20_000;
    await new Promise((resolve) => setTimeout(resolve, 20));
    paused.stop();
    expect(tty.text()).toBe('');
  });
});
