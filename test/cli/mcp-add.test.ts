/**
 * `stipend mcp add <client>` (in-process on the sources): writes the entry that starts
 * `stipend mcp` or `stipend mcp proxy` into a client's configuration (a temp file through
 * --config), keeps every other server, prints what it wrote, and writes no secret.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../packages/cli/src/main.js';
import { memoryIo } from '../../packages/cli/src/test-io.test-helpers.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'stipend-mcp-add-'));
  const io = memoryIo({
    cwd: dir,
    env: { HOME: dir, STIPEND_EVM_PRIVATE_KEY: `0x${'ab'.repeat(32)}` },
  });
  return { dir, io };
}

describe('stipend mcp add', () => {
  it('adds stipend mcp to a Claude Desktop file, keeping the servers already there', async () => {
    const { dir, io } = setup();
    const config = join(dir, 'claude_desktop_config.json');
    writeFileSync(
      config,
      JSON.stringify({ mcpServers: { files: { command: 'npx', args: ['-y', 'fs-mcp'] } } }),
    );
    const code = await main(
      [
        'mcp',
        'add',
        'claude',
        '--config',
        config,
        '--policy',
        'policy.json',
        '--allow-host',
        '127.0.0.1',
      ],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const written = JSON.parse(readFileSync(config, 'utf8'));
    expect(written).toEqual({
      mcpServers: {
        files: { command: 'npx', args: ['-y', 'fs-mcp'] },
        stipend: {
          command: 'stipend',
          args: ['mcp', '--policy', join(dir, 'policy.json'), '--allow-host', '127.0.0.1'],
        },
      },
    });
    expect(io.out()).toContain(`Added to ${config}:`);
    expect(io.out()).toContain('"stipend": {');
    expect(io.out()).toMatch(/Restart Claude Desktop/);
    // No secret of the environment is written or printed.
    expect(readFileSync(config, 'utf8') + io.out()).not.toContain('abab');
  });

  it('writes a VS Code proxy entry in front of another server', async () => {
    const { dir, io } = setup();
    const code = await main(['mcp', 'add', 'vscode', '--', 'npx', '-y', '@acme/paid-mcp'], io);
    expect(code).toBe(0);
    const path = join(dir, '.vscode', 'mcp.json');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      servers: {
        'stipend-proxy': {
          type: 'stdio',
          command: 'stipend',
          args: ['mcp', 'proxy', '--', 'npx', '-y', '@acme/paid-mcp'],
        },
      },
    });
    expect(io.out()).toContain(`Created ${path}:`);
  });

  it('writes a Cursor proxy entry for a URL, with the command given', async () => {
    const { dir, io } = setup();
    const config = join(dir, 'cursor.json');
    const code = await main(
      [
        'mcp',
        'add',
        'cursor',
        '--config',
        config,
        '--url',
        'https://tools.example.com/mcp',
        '--command',
        '/opt/bin/stipend',
      ],
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(config, 'utf8')).mcpServers['stipend-proxy']).toEqual({
      command: '/opt/bin/stipend',
      args: ['mcp', 'proxy', 'https://tools.example.com/mcp'],
    });
  });

  it('leaves a file it cannot merge as it was, and says why', async () => {
    const { dir, io } = setup();
    const config = join(dir, 'mcp.json');
    const text = '{ // my servers\n "mcpServers": { "a": { "command": "x" } } }';
    writeFileSync(config, text);
    expect(await main(['mcp', 'add', 'cursor', '--config', config], io)).toBe(1);
    expect(io.err()).toMatch(/not plain JSON/);
    expect(readFileSync(config, 'utf8')).toBe(text);

    const taken = join(dir, 'taken.json');
    writeFileSync(taken, JSON.stringify({ mcpServers: { stipend: { command: 'other' } } }));
    const again = memoryIo({ cwd: dir, env: { HOME: dir } });
    expect(await main(['mcp', 'add', 'cursor', '--config', taken], again)).toBe(1);
    expect(again.err()).toMatch(/--force/);
    expect(JSON.parse(readFileSync(taken, 'utf8')).mcpServers.stipend.command).toBe('other');
  });

  it('names the clients it knows when the client is missing or unknown', async () => {
    const { io } = setup();
    expect(await main(['mcp', 'add', 'emacs'], io)).toBe(2);
    expect(io.err()).toMatch(/claude, cursor, vscode/);
  });
});
