import { describe, expect, it } from 'vitest';
import { defaultConfigPath, mergeServer } from './client-config.js';

const entry = { command: 'stipend', args: ['mcp'] };

describe('mergeServer', () => {
  it('keeps every other server and setting when it adds one (never drops a server)', () => {
    const existing = JSON.stringify({
      globalShortcut: 'Ctrl+Space',
      mcpServers: { github: { command: 'npx', args: ['-y', 'gh'], env: { TOKEN: 't' } } },
    });
    const merged = mergeServer(existing, 'claude', 'stipend', entry);
    expect(merged.ok).toBe(true);
    if (!merged.ok) return;
    expect(JSON.parse(merged.text)).toEqual({
      globalShortcut: 'Ctrl+Space',
      mcpServers: {
        github: { command: 'npx', args: ['-y', 'gh'], env: { TOKEN: 't' } },
        stipend: { command: 'stipend', args: ['mcp'] },
      },
    });
  });

  it('writes VS Code entries under "servers" with type stdio', () => {
    const merged = mergeServer(undefined, 'vscode', 'stipend', entry);
    expect(merged.ok && JSON.parse(merged.text)).toEqual({
      servers: { stipend: { type: 'stdio', command: 'stipend', args: ['mcp'] } },
    });
  });

  it('refuses to overwrite a different server of the same name unless asked', () => {
    const existing = JSON.stringify({ mcpServers: { stipend: { command: 'old' } } });
    const refused = mergeServer(existing, 'cursor', 'stipend', entry);
    expect(refused).toMatchObject({ ok: false, problem: expect.stringMatching(/--force/) });
    const replaced = mergeServer(existing, 'cursor', 'stipend', entry, { replace: true });
    expect(replaced).toMatchObject({ ok: true, replaced: true });
  });

  it('leaves a file it cannot read as JSON untouched (comments, trailing commas)', () => {
    const merged = mergeServer('{ // mine\n "servers": {}, }', 'vscode', 'stipend', entry);
    expect(merged).toMatchObject({ ok: false, problem: expect.stringMatching(/not plain JSON/) });
    expect(mergeServer('[1]', 'claude', 'stipend', entry).ok).toBe(false);
    expect(mergeServer('{"mcpServers": []}', 'claude', 'stipend', entry).ok).toBe(false);
  });

  it('a server named __proto__ is an ordinary key, not a prototype', () => {
    const merged = mergeServer('{"mcpServers":{}}', 'claude', '__proto__', entry);
    expect(merged.ok).toBe(true);
    if (!merged.ok) return;
    const parsed = JSON.parse(merged.text);
    expect(Object.keys(parsed.mcpServers)).toEqual(['__proto__']);
  });
});

describe('defaultConfigPath', () => {
  const where = { home: '/home/ada', cwd: '/work/app', env: {} };
  it('knows where each client keeps its configuration', () => {
    expect(defaultConfigPath('cursor', { ...where, platform: 'linux' })).toBe(
      '/home/ada/.cursor/mcp.json',
    );
    expect(defaultConfigPath('vscode', { ...where, platform: 'linux' })).toBe(
      '/work/app/.vscode/mcp.json',
    );
    expect(defaultConfigPath('claude', { ...where, platform: 'darwin' })).toBe(
      '/home/ada/Library/Application Support/Claude/claude_desktop_config.json',
    );
    expect(defaultConfigPath('claude', { ...where, platform: 'linux' })).toBe(
      '/home/ada/.config/Claude/claude_desktop_config.json',
    );
  });
});
