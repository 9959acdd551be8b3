/**
 * A progress line on a terminal: when one step of a paid call (the server, the policy and
 * wallets, the payment, the paid retry) has lasted over two seconds, stderr shows what is
 * being waited for and for how long, on one line that is cleared when the step ends.
 *
 * @module
 */
import type { OfferSummary, PayingFetch } from '@stipend/client';
import { formatAmount } from '@stipend/client';
import type { Output } from '../io.js';

/** Waits shorter than this show nothing. */
export const PROGRESS_AFTER_MS = 2000;

/** The progress of one command. */
export interface Progress {
  /** Starts a step: `what` is shown once the step lasts over {@link PROGRESS_AFTER_MS}. */
  step(what: string): void;
  /** Hides the line while something else talks to the person (an approval prompt). */
  pause(): void;
  resume(): void;
  /** Clears the line and stops the clock. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** The clock, ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How often the line is redrawn, ms. Default 500. */
  readonly tickMs?: number;
}

/**
 * A progress line on `out`; silent (every method a no-op) when `out` is not a terminal.
 * Its timer never keeps the process alive.
 *
 * @example
 * ```ts
 * import { createProgress } from './progress.js';
 * const progress = createProgress(process.stderr);
 * progress.step('waiting for https://api.example.com');
 * // … after 2 s on a terminal: "· waiting for https://api.example.com (2 s)"
 * progress.stop();
 * ```
 */
export function createProgress(out: Output, options: ProgressOptions = {}): Progress {
  if (!out.isTTY) return { step() {}, pause() {}, resume() {}, stop() {} };
  const now = options.now ?? Date.now;
  let what: string | undefined;
  let since = 0;
  let paused = false;
  let shown = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const clear = () => {
    if (shown) out.write('\r\x1b[2K');
    shown = false;
  };
  const draw = () => {
    if (what === undefined || paused) return;
    const waited = now() - since;
    if (waited < PROGRESS_AFTER_MS) return;
    out.write(`\r\x1b[2K· ${what} (${Math.floor(waited / 1000)} s)`);
    shown = true;
  };
  return {
    step(next) {
      clear();
      what = next;
      since = now();
      if (timer === undefined) {
        timer = setInterval(draw, options.tickMs ?? 500);
        timer.unref?.();
      }
    },
    pause() {
      clear();
      paused = true;
    },
    resume() {
      paused = false;
      since = now();
    },
    stop() {
      clear();
      what = undefined;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

/**
 * Moves `progress` along a paid call with the paying fetch's events: the server's answer,
 * the policy and wallet checks, the wallet paying, the paid retry. Returns the unsubscribe.
 *
 * @example
 * ```ts
 * import { createProgress, followPayments } from './progress.js';
 * const progress = createProgress(process.stderr);
 * const stop = followPayments(payingFetch, progress);
 * progress.step('waiting for https://api.example.com');
 * await payingFetch('https://api.example.com/paid');
 * stop();
 * progress.stop();
 * ```
 */
export function followPayments(payingFetch: PayingFetch, progress: Progress): () => void {
  const offer = (summary: OfferSummary) =>
    `${safeAmount(summary)} via ${summary.protocol}:${summary.scheme}`;
  const off = [
    payingFetch.on('challenge', (event) =>
      progress.step(
        `402 from ${originOf(event.url)}: checking ${event.offers.length} offer(s) against the policy and wallets`,
      ),
    ),
    payingFetch.on('decision', (event) =>
      progress.step(
        `paying ${offer(event.offer)} with wallet ${event.walletId} (the wallet and its chain or node)`,
      ),
    ),
    payingFetch.on('payment', (event) =>
      progress.step(`paid; waiting for ${originOf(event.url)} to answer the paid request`),
    ),
    payingFetch.on('receipt', () => progress.step('reading the response')),
  ];
  return () => {
    for (const unsubscribe of off) unsubscribe();
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

function safeAmount(summary: OfferSummary): string {
  try {
    return formatAmount(summary.amount);
  } catch {
    return 'an amount';
  }
}
