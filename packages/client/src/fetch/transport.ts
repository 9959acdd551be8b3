/**
 * Where a proof may be sent: HTTPS, or plain HTTP to a loopback host when allowed.
 *
 * @module
 */

/** True for `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '[::1]' || host === '::1') return true;
  const match = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return match?.slice(1).every((part) => Number(part) <= 255) ?? false;
}

/** The plain-HTTP rule: `'loopback'` (default) allows only loopback hosts. */
export type HttpRule = boolean | 'loopback';

/** Whether a payment may be made to (and a proof sent to) this URL. */
export function mayPayOver(url: URL, allowHttp: HttpRule): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  if (allowHttp === true) return true;
  return allowHttp === 'loopback' && isLoopbackHost(url.hostname);
}
