/**
 * Which network addresses a model-driven fetch may reach. Private, loopback, link-local and
 * other non-public ranges are refused unless an allow-list entry names the host or covers the
 * address. IPv4 embedded in IPv6 (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) is judged by its IPv4 address.
 *
 * @module
 */
import { StipendError } from '@stipend/client';

/** A parsed address: IPv4 as one 32-bit number, IPv6 as eight 16-bit groups. */
type Parsed = { readonly v: 4; readonly n: number } | { readonly v: 6; readonly g: number[] };

const V4_BLOCKED: readonly (readonly [string, number, string])[] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const V6_BLOCKED: readonly (readonly [string, number, string])[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 32, 'Teredo'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

function parseV4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

function parseV6(text: string): number[] | undefined {
  let body = text.replace(/%.*$/, '');
  const groups: number[] = [];
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(body);
  let tail: number[] = [];
  if (dotted) {
    const v4 = parseV4(dotted[1]!);
    if (v4 === undefined) return undefined;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    body = body.slice(0, -dotted[1]!.length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const read = (half: string) => (half === '' ? [] : half.split(':'));
  const head = read(halves[0]!);
  const rest = halves.length === 2 ? read(halves[1]!) : [];
  for (const group of [...head, ...rest]) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
  }
  const missing = 8 - head.length - rest.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  for (const group of head) groups.push(Number.parseInt(group, 16));
  for (let i = 0; i < (halves.length === 2 ? missing : 0); i++) groups.push(0);
  for (const group of rest) groups.push(Number.parseInt(group, 16));
  groups.push(...tail);
  return groups;
}

/** Parses an IP address (IPv6 with or without brackets or a zone). `undefined` if it is none. */
function parse(address: string): Parsed | undefined {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v4 = parseV4(text);
  if (v4 !== undefined) return { v: 4, n: v4 };
  if (!text.includes(':')) return undefined;
  const g = parseV6(text);
  return g ? { v: 6, g } : undefined;
}

function inV4(n: number, base: number, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(n / size) === Math.floor(base / size);
}

function inV6(g: readonly number[], base: readonly number[], bits: number): boolean {
  for (let i = 0; i < 8; i++) {
    const take = Math.min(16, Math.max(0, bits - i * 16));
    if (take === 0) return true;
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((g[i]! & mask) !== (base[i]! & mask)) return false;
  }
  return true;
}

/** The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any. */
function embeddedV4(g: readonly number[]): number | undefined {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return g[6]! * 65536 + g[7]!;
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return g[6]! * 65536 + g[7]!;
  if (g[0] === 0x2002) return g[1]! * 65536 + g[2]!;
  return undefined;
}

const V4_TABLE = V4_BLOCKED.map(([base, bits, label]) => [parseV4(base)!, bits, label] as const);
const V6_TABLE = V6_BLOCKED.map(([base, bits, label]) => [parseV6(base)!, bits, label] as const);

/**
 * Why an address is not public (`'loopback'`, `'private'`, `'link-local'`…), or `undefined`
 * when it is a public address. A string that is not an IP address is refused as `'not an IP
 * address'`.
 *
 * @example
 * ```ts
 * import { nonPublicRange } from '@stipend/mcp/server';
 * nonPublicRange('127.0.0.1'); // 'loopback'
 * nonPublicRange('::ffff:10.1.2.3'); // 'private'
 * nonPublicRange('93.184.216.34'); // undefined
 * ```
 */
export function nonPublicRange(address: string): string | undefined {
  const parsed = parse(address);
  if (!parsed) return 'not an IP address';
  if (parsed.v === 4) return v4Range(parsed.n);
  const inner = embeddedV4(parsed.g);
  if (inner !== undefined) return v4Range(inner);
  for (const [base, bits, label] of V6_TABLE) if (inV6(parsed.g, base, bits)) return label;
  return undefined;
}

function v4Range(n: number): string | undefined {
  for (const [base, bits, label] of V4_TABLE) if (inV4(n, base, bits)) return label;
  return undefined;
}

/** One allow-list entry: a host name, an IP address, or a CIDR range. */
type Entry =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'net'; readonly net: Parsed; readonly bits: number };

/** Hosts and addresses a model may reach although they are not public. */
export interface AllowList {
  /** The entries as given. */
  readonly entries: readonly string[];
  /** True when the host name itself is listed (any address it resolves to is then allowed). */
  allowsName(hostname: string): boolean;
  /** True when an IP address or CIDR entry covers the address. */
  allowsAddress(address: string): boolean;
}

/**
 * Parses allow-list entries: host names (`localhost`, `api.internal`), IP addresses
 * (`127.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
 *
 * @throws {StipendError} code `ALLOW_HOSTS_INVALID` for an entry that is none of these.
 * @example
 * ```ts
 * import { parseAllowList } from '@stipend/mcp/server';
 * const allow = parseAllowList(['127.0.0.1', 'localhost', '10.0.0.0/8']);
 * allow.allowsAddress('10.2.3.4'); // true
 * ```
 */
export function parseAllowList(entries: readonly string[]): AllowList {
  const parsed: Entry[] = [];
  const given: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    given.push(entry);
    const [address, prefix, extra] = entry.split('/');
    const net = parse(address!);
    if (net) {
      const max = net.v === 4 ? 32 : 128;
      const bits = prefix === undefined ? max : Number(prefix);
      if (extra !== undefined || !/^\d{1,3}$/.test(prefix ?? String(max)) || bits > max) {
        throw invalidEntry(raw, `the prefix length must be 0–${max}`);
      }
      parsed.push({ kind: 'net', net, bits });
    } else if (
      prefix === undefined &&
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(entry)
    ) {
      parsed.push({ kind: 'name', name: entry.replace(/\.$/, '') });
    } else {
      throw invalidEntry(raw, 'write a host name, an IP address or a CIDR range');
    }
  }
  return {
    entries: given,
    allowsName(hostname) {
      const name = hostname.toLowerCase().replace(/\.$/, '');
      return parsed.some((entry) => entry.kind === 'name' && entry.name === name);
    },
    allowsAddress(address) {
      const ip = parse(address);
      if (!ip) return false;
      return parsed.some((entry) => {
        if (entry.kind !== 'net') return false;
        if (entry.net.v === 4 && ip.v === 4) return inV4(ip.n, entry.net.n, entry.bits);
        if (entry.net.v === 6 && ip.v === 6) return inV6(ip.g, entry.net.g, entry.bits);
        // An IPv4 entry also covers that address written as IPv4-mapped IPv6.
        if (entry.net.v === 4 && ip.v === 6) {
          const inner = embeddedV4(ip.g);
          return inner !== undefined && ip.g[0] === 0 && inV4(inner, entry.net.n, entry.bits);
        }
        return false;
      });
    },
  };
}

/**
 * Reads `STIPEND_MCP_ALLOW_HOSTS`: entries separated by commas or white space.
 *
 * @example
 * ```ts
 * import { allowHostsFromEnv } from '@stipend/mcp/server';
 * allowHostsFromEnv({ STIPEND_MCP_ALLOW_HOSTS: '127.0.0.1, localhost' }); // ['127.0.0.1', 'localhost']
 * ```
 */
export function allowHostsFromEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  return (env.STIPEND_MCP_ALLOW_HOSTS ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
}

function invalidEntry(entry: string, fix: string): StipendError {
  return new StipendError(
    'ALLOW_HOSTS_INVALID',
    `The allow-list entry ${JSON.stringify(entry)} is not valid: ${fix} (e.g. "127.0.0.1", "localhost", "10.0.0.0/8").`,
    { details: { entry } },
  );
}

/**
 * A fetch was refused because its target is not a public address and is not allow-listed.
 *
 * @example
 * ```ts
 * import { TargetBlockedError } from '@stipend/mcp/server';
 * const error = new TargetBlockedError('localhost', [{ address: '127.0.0.1', range: 'loopback' }]);
 * error.code; // 'TARGET_BLOCKED'
 * ```
 */
export class TargetBlockedError extends StipendError {
  override name = 'TargetBlockedError';
  readonly hostname: string;
  readonly addresses: readonly { readonly address: string; readonly range: string }[];
  constructor(
    hostname: string,
    addresses: readonly { readonly address: string; readonly range: string }[],
  ) {
    const shown = addresses.map((item) => `${item.address} (${item.range})`).join(', ');
    super(
      'TARGET_BLOCKED',
      `Refused to connect to ${hostname}: it resolves to ${shown || 'no address'}, which is not a public address. ` +
        'Private, loopback and link-local targets are refused by default; for local testing allow it: ' +
        `restart the server with stipend mcp --allow-host ${hostname} (or set STIPEND_MCP_ALLOW_HOSTS=${hostname}; ` +
        'from code, the allowHosts option of startMcpServer).',
      { details: { hostname, addresses } },
    );
    this.hostname = hostname;
    this.addresses = addresses;
  }
}
