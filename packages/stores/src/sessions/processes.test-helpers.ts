/**
 * Cross-process tests of a persisted session store: real child processes (see
 * `store.child.test-helpers.ts`) race to open a session for one scope, and a record written by
 * one process is read back by another started afterwards (a restart).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { SessionRecord } from '@stipend/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleChild, type ChildBundle } from '../../../../test/stores/bundle.test-helpers.js';
import { sessionRecord } from '../../../client/src/session/store.conformance.test-helpers.js';
import { parseJson, stringifyJson } from '../codec.js';

const RACERS = 4;
const running = new Set<ChildProcess>();

/** A started child: its answer, once it has put or read. */
interface Child {
  readonly ready: Promise<void>;
  readonly answer: Promise<string>;
  start(): void;
}

function run(bundle: ChildBundle, args: readonly string[]): Child {
  const child = spawn(process.execPath, [bundle.file, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const answer = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => {
      running.delete(child);
      if (code === 0) resolve(out.replace(/^ready\n/, '').trim());
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
  return { ready, answer, start: () => child.stdin!.end('go\n') };
}

/**
 * Registers the cross-process tests of a session store.
 *
 * @param name - Names the store in the test titles.
 * @param location - The child's store arguments for a fresh store (`['file', path]`,
 * `['redis', url, prefix]`); called once per test.
 *
 * @example
 * ```ts
 * import { describeSessionStoreProcesses } from '../sessions/processes.test-helpers.js';
 * describeSessionStoreProcesses('file', () => ['file', join(folder, `s-${n++}.jsonl`)]);
 * ```
 */
export function describeSessionStoreProcesses(
  name: string,
  location: () => readonly string[],
): void {
  describe(`session store across processes: ${name}`, () => {
    let bundle: ChildBundle;
    beforeAll(async () => {
      bundle = await bundleChild(new URL('./store.child.test-helpers.ts', import.meta.url));
    });
    afterAll(() => {
      for (const child of running) child.kill('SIGKILL');
      bundle?.remove();
    });

    it('processes racing to open a session for one scope: exactly one wins', async () => {
      for (let round = 0; round < 2; round++) {
        const where = location();
        const children = Array.from({ length: RACERS }, (_, index) =>
          run(bundle, [
            ...where,
            'put',
            '0',
            stringifyJson(sessionRecord(`ses_${round}_${index}`, { owner: `p_${index}` })),
          ]),
        );
        await Promise.all(children.map((child) => child.ready));
        for (const child of children) child.start();
        const answers = await Promise.all(children.map((child) => child.answer));
        const winners = answers.filter((answer) => answer === 'ok 1');
        expect(winners).toHaveLength(1);
        const winner = `ses_${round}_${answers.indexOf(winners[0]!)}`;
        for (const answer of answers)
          if (answer !== 'ok 1') expect(answer).toBe(`conflict ${winner}`);
        // A process started afterwards sees the winner, and only it.
        const read = await reader(bundle, where, winner);
        expect(read?.id).toBe(winner);
        for (let index = 0; index < RACERS; index++) {
          if (`ses_${round}_${index}` !== winner) {
            expect(await reader(bundle, where, `ses_${round}_${index}`)).toBeUndefined();
          }
        }
      }
    });

    it('a record one process wrote is read back exactly by another after a restart', async () => {
      const where = location();
      const big = 987_654_321_098_765_432_109_876_543_210n;
      const record = sessionRecord('ses_restart', {
        state: 'open',
        depositAtomic: big,
        spentAtomic: 2_000n,
        uses: 1,
        holds: [
          {
            reservationId: 'r-open',
            kind: 'open',
            atomic: big,
            reservedUsdMicros: 10_000_001n,
            rate: { numerator: 1n, denominator: 100_000n },
            reference: 'a'.repeat(64),
            state: 'paid',
          },
        ],
        methodData: { sessionId: 'b'.repeat(64) },
        secret: { bearer: 'c'.repeat(64) },
      });
      const writer = run(bundle, [...where, 'put', '0', stringifyJson(record)]);
      await writer.ready;
      writer.start();
      expect(await writer.answer).toBe('ok 1');
      const read = await reader(bundle, where, 'ses_restart');
      expect(read).toEqual({ ...record, version: 1 });
      expect(read?.depositAtomic).toBe(big);
      expect(read?.secret?.bearer).toBe('c'.repeat(64));
      // And the next process to move it must name the version the first one stored.
      const stale = run(bundle, [...where, 'put', '0', stringifyJson({ ...record, uses: 2 })]);
      await stale.ready;
      stale.start();
      expect(await stale.answer).toBe('conflict ses_restart');
      const next = run(bundle, [
        ...where,
        'put',
        '1',
        stringifyJson({ ...record, state: 'closed', closedBy: 'client' }),
      ]);
      await next.ready;
      next.start();
      expect(await next.answer).toBe('ok 2');
      expect((await reader(bundle, where, 'ses_restart'))?.state).toBe('closed');
    });
  });
}

async function reader(
  bundle: ChildBundle,
  where: readonly string[],
  id: string,
): Promise<SessionRecord | undefined> {
  const answer = await run(bundle, [...where, 'get', id]).answer;
  return answer === 'missing' ? undefined : (parseJson(answer) as SessionRecord);
}
