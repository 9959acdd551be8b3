import { describe, expect, it } from 'vitest';
import { EXIT } from './io.js';
import { HELP, main } from './main.js';
import { memoryIo } from './test-io.test-helpers.js';

describe('main', () => {
  it('prints help, and the wallet variables on "help wallets"', async () => {
    const io = memoryIo();
    expect(await main(['help'], io)).toBe(EXIT.ok);
    expect(io.out()).toBe(HELP);
    const wallets = memoryIo();
    await main(['help', 'wallets'], wallets);
    expect(wallets.out()).toContain('STIPEND_EVM_PRIVATE_KEY=0x…');
    expect(wallets.out()).toContain('STIPEND_BTC_USD=97000');
  });

  it('exits 2 with the help for no command or an unknown one', async () => {
    const none = memoryIo();
    expect(await main([], none)).toBe(EXIT.usage);
    const unknown = memoryIo();
    expect(await main(['pay'], unknown)).toBe(EXIT.usage);
    expect(unknown.err()).toMatch(/^stipend: unknown command "pay"\n\nstipend — pay HTTP 402 APIs/);
  });

  it('turns usage mistakes into one line and exit 2', async () => {
    const io = memoryIo({ env: { STIPEND_HOME: '/nonexistent' } });
    expect(await main(['fetch', '--bogus', 'http://x'], io)).toBe(EXIT.usage);
    expect(io.err()).toMatch(
      /^stipend fetch: unknown option --bogus \(see stipend fetch --help\)\n$/,
    );
    const two = memoryIo();
    expect(await main(['fetch', 'http://a', 'http://b'], two)).toBe(EXIT.usage);
    expect(two.err()).toBe('stipend fetch: give exactly one URL (see stipend fetch --help)\n');
    const bad = memoryIo();
    expect(await main(['fetch', 'ftp://a/b'], bad)).toBe(EXIT.usage);
    expect(bad.err()).toBe(
      'stipend fetch: only http(s) URLs are fetched, not ftp: (e.g. https://api.example.com/data)\n',
    );
    const max = memoryIo();
    expect(await main(['fetch', 'http://a/', '--max', 'ten'], max)).toBe(EXIT.usage);
    expect(max.err()).toBe('--max must be a USD amount such as 0.05, not "ten"\n');
    const get = memoryIo();
    expect(await main(['fetch', 'http://a/', '-X', 'GET', '-d', 'x'], get)).toBe(EXIT.usage);
    expect(get.err()).toBe('-d sends a body, which GET cannot carry: add -X POST\n');
  });

  it('reports a wallet setting that cannot be used, naming it', async () => {
    const io = memoryIo({ env: { STIPEND_HOME: '/nonexistent', STIPEND_EVM_PRIVATE_KEY: '0x12' } });
    expect(await main(['fetch', 'http://127.0.0.1:9/'], io)).toBe(EXIT.error);
    expect(io.err()).toBe(
      'STIPEND_EVM_PRIVATE_KEY must be a private key: 0x followed by 64 hex digits\n',
    );
  });

  it('a URL without its scheme gets the URL to type, http for loopback and https otherwise', async () => {
    for (const [given, fix] of [
      ['127.0.0.1:45283/weather', 'http://127.0.0.1:45283/weather'],
      ['localhost:4021/x', 'http://localhost:4021/x'],
      ['api.example.com/data', 'https://api.example.com/data'],
    ] as const) {
      const io = memoryIo();
      expect(await main(['fetch', given], io)).toBe(EXIT.usage);
      expect(io.err()).toBe(
        `stipend fetch: "${given}" is not a URL: add the scheme, e.g. stipend fetch ${fix}\n`,
      );
    }
  });

  it('an option given without its value says which value to write, not parseArgs text', async () => {
    const max = memoryIo();
    expect(await main(['fetch', 'http://a/', '--max'], max)).toBe(EXIT.usage);
    expect(max.err()).toBe(
      'stipend fetch: --max needs a value, e.g. --max 0.05 (see stipend fetch --help)\n',
    );
    const method = memoryIo();
    expect(await main(['fetch', 'http://a/', '-X'], method)).toBe(EXIT.usage);
    expect(method.err()).toMatch(/^stipend fetch: --method needs a value, e.g\. --method POST /);
    const json = memoryIo();
    expect(await main(['ledger', '--json=yes'], json)).toBe(EXIT.usage);
    expect(json.err()).toMatch(/^stipend ledger: --json is a switch and takes no value/);
  });

  it('--timeout takes seconds and says so when it is not', async () => {
    const io = memoryIo();
    expect(await main(['fetch', 'http://a/', '--timeout', '0'], io)).toBe(EXIT.usage);
    expect(io.err()).toBe(
      '--timeout must be a number of seconds above 0 (at most 86400), e.g. --timeout 30, not "0"\n',
    );
  });
});
