import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { nodeFetch } from './node-fetch.js';

describe('nodeFetch', () => {
  it('close() ends in-flight requests at once, so the command can exit when its work is done', async () => {
    const server = createServer((socket) => socket.on('data', () => {})); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const http = nodeFetch({});
    const request = http.fetch(`http://127.0.0.1:${port}/`).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await http.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await request).toBeInstanceOf(Error);
    await new Promise((resolve) => server.close(resolve));
  });

  it('a server that never answers fails the request after timeoutMs', async () => {
    const server = createServer((socket) => socket.on('data', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const http = nodeFetch({}, { timeoutMs: 300 });
    const started = Date.now();
    const error = await http.fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    await http.close();
    await new Promise((resolve) => server.close(resolve));
  });
});
