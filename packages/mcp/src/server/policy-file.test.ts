import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyFile } from './policy-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stipend-policy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('loadPolicyFile', () => {
  it('reads a valid policy', async () => {
    const policy = {
      global: { maxPerRequest: { usd: '0.05' } },
      hosts: { '*.mcp': { action: 'ask' } },
    };
    expect(await loadPolicyFile(await file('ok.json', JSON.stringify(policy)))).toEqual(policy);
  });

  it('says which field of an invalid policy to fix', async () => {
    const path = await file(
      'bad.json',
      JSON.stringify({ global: { maxPerRequest: { usd: '0.1.0' } } }),
    );
    await expect(loadPolicyFile(path)).rejects.toMatchObject({
      code: 'POLICY_INVALID',
      message: expect.stringContaining('maxPerRequest'),
    });
  });

  it('reports a missing file and a file that is not JSON', async () => {
    await expect(loadPolicyFile(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'POLICY_FILE_UNREADABLE',
      message: expect.stringContaining('Cannot read the policy file'),
    });
    await expect(loadPolicyFile(await file('text.json', 'global: {}'))).rejects.toMatchObject({
      code: 'POLICY_FILE_UNREADABLE',
      message: expect.stringContaining('not valid JSON'),
    });
  });
});
