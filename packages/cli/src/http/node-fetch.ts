/**
 * The fetch the command sends with: undici's, through an `EnvHttpProxyAgent`, so that
 * `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` (either case) are honoured in Node.
 *
 * @module
 */
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';

/** A fetch with its dispatcher, to close when done. */
export interface NodeFetch {
  readonly fetch: typeof fetch;
  /** The proxies in force, for messages (`undefined` when none). */
  readonly proxies: { readonly http?: string; readonly https?: string; readonly noProxy?: string };
  /**
   * Ends every connection now, in-flight requests included (undici's `destroy()`): the
   * command's work is done, so nothing it started may keep the process alive.
   */
  close(): Promise<void>;
}

/** Options of {@link nodeFetch}. */
export interface NodeFetchOptions {
  /**
   * The longest wait for a server's response headers, and between two chunks of a body, in
   * ms (undici's `headersTimeout` / `bodyTimeout`). Default: undici's (300 s).
   */
  readonly timeoutMs?: number;
}

/**
 * Makes a fetch that goes through the proxies named in `env` (`HTTPS_PROXY` for https URLs,
 * `HTTP_PROXY` for http URLs, except hosts listed in `NO_PROXY`), directly otherwise.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { nodeFetch } from './node-fetch.js';
 * const http = nodeFetch(process.env);
 * const payingFetch = createPayingFetch({ wallets, fetch: http.fetch });
 * // …
 * await http.close();
 * ```
 */
export function nodeFetch(
  env: Readonly<Record<string, string | undefined>>,
  options: NodeFetchOptions = {},
): NodeFetch {
  const pick = (name: string) => env[name] ?? env[name.toLowerCase()] ?? undefined;
  const proxies = {
    ...(pick('HTTP_PROXY') ? { http: pick('HTTP_PROXY')! } : {}),
    ...(pick('HTTPS_PROXY') ? { https: pick('HTTPS_PROXY')! } : {}),
    ...(pick('NO_PROXY') ? { noProxy: pick('NO_PROXY')! } : {}),
  };
  // Explicit values (an empty string means "none"), so only `env` counts, not process.env.
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: proxies.http ?? '',
    httpsProxy: proxies.https ?? '',
    noProxy: proxies.noProxy ?? '',
    ...(options.timeoutMs !== undefined
      ? { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs }
      : {}),
  });
  const send = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (typeof Request !== 'undefined' && input instanceof Request) {
      // A Request of another fetch implementation: pass its parts.
      const body = init?.body ?? (input.body ? await input.arrayBuffer() : undefined);
      return undiciFetch(input.url, {
        method: input.method,
        headers: input.headers as never,
        redirect: input.redirect,
        ...(init as object),
        ...(body !== undefined ? { body: body as never } : {}),
        dispatcher,
      }) as unknown as Promise<Response>;
    }
    return undiciFetch(input as never, {
      ...(init as object),
      dispatcher,
    }) as unknown as Promise<Response>;
  }) as typeof fetch;
  return {
    fetch: send,
    proxies,
    close: () => dispatcher.destroy(),
  };
}
