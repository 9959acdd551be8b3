import { describe, expect, it, vi } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { deadlineSignal, isDeadlineError, withDeadline } from './deadline.js';

const never = () => new Promise<never>(() => {});

describe('deadlineSignal', () => {
  it('aborts after the deadline with a TimeoutError that names it', async () => {
    const { signal } = deadlineSignal(20);
    expect(signal.aborted).toBe(false);
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    expect((signal.reason as Error).name).toBe('TimeoutError');
    expect((signal.reason as Error).message).toContain('20 ms');
  });

  it('follows its parent, with the parent’s reason', () => {
    const parent = new AbortController();
    const { signal } = deadlineSignal(60_000, parent.signal);
    parent.abort('caller gave up');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('caller gave up');
  });

  it('is aborted at once when the parent already is', () => {
    const { signal } = deadlineSignal(60_000, AbortSignal.abort('gone'));
    expect(signal.reason).toBe('gone');
  });

  it('clear() stands the deadline down and detaches from the parent', async () => {
    const parent = new AbortController();
    const deadline = deadlineSignal(10, parent.signal);
    deadline.clear();
    await new Promise((resolve) => setTimeout(resolve, 30));
    parent.abort();
    expect(deadline.signal.aborted).toBe(false);
  });

  it('Infinity means no timer; a huge deadline does not fire at once (setTimeout overflow)', async () => {
    const forever = deadlineSignal(Number.POSITIVE_INFINITY);
    const huge = deadlineSignal(2 ** 40);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(forever.signal.aborted).toBe(false);
    expect(huge.signal.aborted).toBe(false);
    huge.clear();
  });

  it('refuses a negative or NaN deadline with a typed CONFIG_INVALID naming the options', () => {
    for (const ms of [-1, Number.NaN]) {
      const error = (() => {
        try {
          deadlineSignal(ms);
        } catch (e) {
          return e;
        }
      })();
      expect(isStipendError(error) && error.code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toContain('timeoutMs');
    }
  });

  it('does not keep a Node process alive (the timer is unref’d)', () => {
    const original = globalThis.setTimeout;
    let unrefd = false;
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      const timer = original(fn, ms);
      const unref = timer.unref.bind(timer);
      timer.unref = () => {
        unrefd = true;
        return unref();
      };
      return timer;
    }) as typeof setTimeout;
    try {
      deadlineSignal(60_000).clear();
    } finally {
      globalThis.setTimeout = original;
    }
    expect(unrefd).toBe(true);
  });
});

describe('withDeadline', () => {
  it('every call ends: rejects with TIMEOUT even when the work ignores its signal', async () => {
    const started = Date.now();
    const error = await withDeadline(never, 30, 'The server at https://a.example').catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(isDeadlineError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'The server at https://a.example did not answer within 30 ms; raise timeoutMs or payment.timeoutMs.',
    );
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({
      timeoutMs: 30,
    });
  });

  it('aborts the signal it gave the work when the deadline passes', async () => {
    let seen: AbortSignal | undefined;
    await withDeadline(
      ({ signal }) => {
        seen = signal;
        return never();
      },
      10,
      'x',
    ).catch(() => {});
    expect(seen?.aborted).toBe(true);
  });

  it('resolves with the work’s value and clears the timer', async () => {
    let seen: AbortSignal | undefined;
    const value = await withDeadline(
      async ({ signal }) => {
        seen = signal;
        return 42;
      },
      20,
      'x',
    );
    expect(value).toBe(42);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(seen?.aborted).toBe(false);
  });

  it('makes no AbortSignal for work that does not read it', async () => {
    const signalRead = vi.spyOn(AbortController.prototype, 'signal', 'get');
    await withDeadline(async () => 1, 20, 'x');
    expect(signalRead).not.toHaveBeenCalled();
    await withDeadline(async ({ signal }) => signal.aborted, 20, 'x');
    expect(signalRead).toHaveBeenCalled();
    signalRead.mockRestore();
  });

  it('passes the work’s own failure through', async () => {
    const boom = new Error('boom');
    await expect(withDeadline(() => Promise.reject(boom), 1_000, 'x')).rejects.toBe(boom);
  });

  it('a work that throws synchronously rejects (never throws past the promise)', async () => {
    const boom = new Error('sync');
    await expect(
      withDeadline(
        () => {
          throw boom;
        },
        1_000,
        'x',
      ),
    ).rejects.toBe(boom);
  });

  it('the caller’s abort wins with the caller’s reason, not a TIMEOUT', async () => {
    const parent = new AbortController();
    const call = withDeadline(never, 60_000, 'x', parent.signal);
    parent.abort('stop');
    await expect(call).rejects.toBe('stop');
  });

  it('does not start the work when the caller has already aborted', async () => {
    let started = false;
    await expect(
      withDeadline(
        async () => {
          started = true;
        },
        1_000,
        'x',
        AbortSignal.abort('before'),
      ),
    ).rejects.toBe('before');
    expect(started).toBe(false);
  });

  it('a late failure of abandoned work is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await withDeadline(
        () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30)),
        5,
        'x',
      ).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 80));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('a response that comes after the deadline has its body cancelled (its connection goes)', async () => {
    let cancelled: unknown;
    const late = new Response(
      new ReadableStream({
        cancel(reason) {
          cancelled = reason ?? 'cancelled';
        },
      }),
    );
    await expect(
      withDeadline(
        () => new Promise<Response>((resolve) => setTimeout(() => resolve(late), 30)),
        5,
        'The server at https://seller.example',
      ),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(cancelled).toBeDefined();
  });

  it('names who did not answer lazily: a function is called only when the deadline passes', async () => {
    const what = vi.fn(() => 'The server at https://seller.example');
    await withDeadline(async () => 1, 1_000, what);
    expect(what).not.toHaveBeenCalled();
    const error = await withDeadline(never, 5, what).catch((e: unknown) => e);
    expect(what).toHaveBeenCalledTimes(1);
    expect((error as Error).message).toContain(
      'The server at https://seller.example did not answer',
    );
  });

  it('a signal handed out keeps following the caller after the work answered (a body read can still be cancelled)', async () => {
    const parent = new AbortController();
    let handed: AbortSignal | undefined;
    await withDeadline(
      async ({ signal }) => {
        handed = signal;
        return 1;
      },
      1_000,
      'x',
      parent.signal,
    );
    expect(handed?.aborted).toBe(false);
    parent.abort(new Error('caller stopped'));
    expect(handed?.aborted).toBe(true);
    expect((handed as AbortSignal).reason).toMatchObject({ message: 'caller stopped' });
  });

  it('long deadlines without a caller’s signal share one signal per slot, aborted no sooner than the deadline and at most 1/32 later', async () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(1_000_500);
      const seen: AbortSignal[] = [];
      const take = () =>
        withDeadline(
          async ({ signal }) => {
            seen.push(signal);
            return 1;
          },
          32_000,
          'x',
        );
      await take();
      await vi.advanceTimersByTimeAsync(10);
      await take();
      expect(seen[0]).toBe(seen[1]);
      await vi.advanceTimersByTimeAsync(31_980);
      expect(seen[0]!.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1_010);
      expect(seen[0]!.aborted).toBe(true);
      expect((seen[0]!.reason as Error).name).toBe('TimeoutError');
      // Another slot later: another signal.
      await take();
      expect(seen[2]).not.toBe(seen[0]);
      expect(seen[2]!.aborted).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a caller’s signal or a short deadline gets a signal of its own', async () => {
    const seen: AbortSignal[] = [];
    const take = (ms: number, parent?: AbortSignal) =>
      withDeadline(
        async ({ signal }) => {
          seen.push(signal);
          return 1;
        },
        ms,
        'x',
        parent,
      );
    await take(500);
    await take(500);
    const parent = new AbortController();
    await take(60_000, parent.signal);
    await take(60_000, parent.signal);
    expect(new Set(seen).size).toBe(4);
  });
});
