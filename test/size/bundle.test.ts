/**
 * Browser bundle-size gates: a regression fails CI. Each gated bundle of `bench/size.mjs` (what
 * an app writes: the drop-in, core + one protocol entry, with a wallet) is bundled the way
 * issue 12 measures it (plain esbuild `--bundle --minify --format=esm --platform=browser`,
 * es2022, NO externals, from the TypeScript sources so no build is needed) and gzipped at
 * level 9. The bundles, the measuring and the gates are the bench's own, so `node
 * bench/size.mjs` prints the same figures beside the goals.
 *
 * A gate is issue 12's goal when the goal is met, otherwise the figure measured when the gate
 * was set plus 3 % (`GATES` in bench/size.mjs). Lower a gate when a change makes a bundle
 * smaller; raise one only with a reason you can name in the commit.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the bench, without types.
import { BUNDLES, clientEntries, GATES, measure } from '../../bench/size.mjs';

interface Bundle {
  readonly id: string;
  readonly label: string;
  readonly source: string;
  readonly needs?: readonly string[];
  readonly goal?: { readonly gzip: number; readonly text: string };
  readonly gate?: { readonly gzip: number };
  readonly peer?: boolean;
}
interface Measured {
  readonly error?: string;
  readonly minified: number;
  readonly gzip: number;
  readonly folders: readonly { name: string; bytes: number }[];
  readonly packages: readonly { name: string; bytes: number }[];
}

const bundles = BUNDLES as readonly Bundle[];
const gated = bundles.filter((bundle) => bundle.gate);

/** The gate check itself: `undefined` when within, else what to do. */
function overGate(bundle: Pick<Bundle, 'id' | 'gate'>, size: Pick<Measured, 'gzip'>) {
  if (!bundle.gate || size.gzip <= bundle.gate.gzip) return undefined;
  return (
    `${bundle.id} grew past its gate (${size.gzip} B gzipped > ${bundle.gate.gzip}). Find what ` +
    'grew with `node bench/size.mjs` (largest parts) and make it smaller; raise GATES in ' +
    'bench/size.mjs only for a reason you can name.'
  );
}

/** The largest parts of a bundle, for a failure message. */
function largest(size: Measured): string {
  return [
    ...size.folders.slice(0, 10),
    ...size.packages.filter((p) => !p.name.startsWith('@stipend/')).slice(0, 4),
  ]
    .map((part) => `${part.name} ${part.bytes}`)
    .join('\n');
}

describe('browser bundle size', () => {
  it('checks its gates: within passes, one byte over fails with what to do', () => {
    const bundle = { id: 'x', gate: { gzip: 50 } };
    expect(overGate(bundle, { gzip: 50 })).toBeUndefined();
    expect(overGate(bundle, { gzip: 51 })).toMatch(/51 B gzipped > 50/);
  });

  it('gates the five goals of issue 12, each at its goal or above it only while it is missed', () => {
    expect(gated.map((bundle) => bundle.id).sort()).toEqual(
      ['client', 'core-l402-lnd-rest', 'core-mpp-stripe', 'core-x402', 'core-x402-evm'].sort(),
    );
    for (const bundle of gated) {
      expect(bundle.goal, bundle.id).toBeDefined();
      expect(bundle.gate!.gzip, `${bundle.id}: a gate is a positive byte count`).toBeGreaterThan(0);
    }
    // Every entry the gated bundles import is exported by @stipend/client.
    const entries = clientEntries() as Set<string>;
    expect(gated.flatMap((bundle) => bundle.needs ?? []).filter((e) => !entries.has(e))).toEqual(
      [],
    );
    expect(Object.keys(GATES).length).toBe(gated.length);
  });

  it.each(gated.map((bundle) => [bundle.id, bundle] as const))(
    '%s builds without externals and stays within its gate',
    async (_id, bundle) => {
      const size = (await measure(bundle.source, { fromSource: true })) as Measured;
      expect(size.error, 'it must build with no externals').toBeUndefined();
      const problem = overGate(bundle, size);
      expect(
        problem,
        `${problem}\nlargest parts (minified bytes):\n${largest(size)}`,
      ).toBeUndefined();
      // An entry that bundled (almost) nothing would make the gate vacuous.
      expect(size.minified, 'the entry bundled almost nothing').toBeGreaterThan(20_000);
      // The goal stays visible: a gate above its goal is a gap, reported by the bench.
      if (size.gzip <= bundle.goal!.gzip)
        expect(bundle.gate!.gzip).toBeLessThanOrEqual(bundle.goal!.gzip);
    },
    120_000,
  );
});
