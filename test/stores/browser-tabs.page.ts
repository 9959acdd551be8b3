/**
 * Page script of browser-tabs.test.ts, bundled with esbuild: exposes `stipendTab` to run one
 * tab's share of payments through the browser budget store (IndexedDB + Web Locks).
 */
import { createBrowserBudgetStore } from '../../packages/stores/src/browser/index.js';

/** What one tab reports. */
export interface TabReport {
  readonly locking: string;
  readonly committed: string[];
  readonly refused: number;
  readonly usage: { committed: string; held: string; count: number };
  /** When this tab's first reservation started and its last payment ended (ms). */
  readonly span: readonly [number, number];
  /** Appends this tab lost to the other tab (the fence at work). */
  readonly conflicts: number;
}

/** Options of one tab's run. */
export interface TabRun {
  readonly name: string;
  readonly tab: string;
  readonly payments: number;
  readonly budget: number;
  readonly price: string;
  readonly useLocks: boolean;
  /** Both tabs wait for this moment (ms since epoch), so that they really race. */
  readonly startAt: number;
}

async function stipendTab(run: TabRun): Promise<TabReport> {
  const store = createBrowserBudgetStore({
    name: run.name,
    ...(run.useLocks ? {} : { locks: null }),
  });
  const price = BigInt(run.price);
  const limits = [
    { scope: 'global', window: { kind: 'total' }, maxUsdMicros: price * BigInt(run.budget) },
    { scope: 'global', window: { kind: 'calendar', unit: 'day' }, maxCount: run.budget },
    { scope: `tab:${run.tab}`, window: { kind: 'rolling', ms: 60_000 } },
  ] as const;
  await store.get('warm-up');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, run.startAt - Date.now())));
  const begin = Date.now();
  const now = Date.now();
  const outcomes = await Promise.all(
    Array.from({ length: run.payments }, async (_, i) => {
      const id = `${run.tab}-${i}`;
      const reserved = await store.reserve({
        id,
        limits,
        usdMicros: price,
        now,
        expiresAt: now + 60_000,
      });
      if (!reserved.ok) return undefined;
      await store.commit(id, price);
      return id;
    }),
  );
  const end = Date.now();
  const usage = await store.usage(limits[0], Date.now());
  await store.close();
  return {
    locking: store.locking,
    committed: outcomes.filter((id): id is string => id !== undefined),
    refused: outcomes.filter((id) => id === undefined).length,
    span: [begin, end],
    conflicts: store.stats.conflicts,
    usage: {
      committed: usage.committedUsdMicros.toString(),
      held: usage.heldUsdMicros.toString(),
      count: usage.count,
    },
  };
}

(globalThis as { stipendTab?: typeof stipendTab }).stipendTab = stipendTab;
