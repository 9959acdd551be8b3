import { describe, expect, it } from 'vitest';
import {
  allowHostsFromEnv,
  nonPublicRange,
  parseAllowList,
  TargetBlockedError,
} from './address-guard.js';

describe('nonPublicRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared address space (carrier-grade NAT)'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'unique local (private)'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:c0a8:0101::1', 'private'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['localhost', 'not an IP address'],
    ['1.2.3', 'not an IP address'],
    ['1:2:3:4:5:6:7:8:9', 'not an IP address'],
  ])('%s is %s', (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:0808:0808::1',
  ])('%s is public', (address) => {
    expect(nonPublicRange(address)).toBeUndefined();
  });
});

describe('parseAllowList', () => {
  it('matches names exactly and addresses by IP or CIDR (IPv4 entries cover IPv4-mapped IPv6)', () => {
    const allow = parseAllowList(['127.0.0.1', 'LocalHost.', '10.0.0.0/8', 'fd00::/8', ' ']);
    expect(allow.entries).toEqual(['127.0.0.1', 'localhost.', '10.0.0.0/8', 'fd00::/8']);
    expect(allow.allowsName('localhost')).toBe(true);
    expect(allow.allowsName('LOCALHOST.')).toBe(true);
    expect(allow.allowsName('evil.localhost')).toBe(false);
    expect(allow.allowsAddress('127.0.0.1')).toBe(true);
    expect(allow.allowsAddress('127.0.0.2')).toBe(false);
    expect(allow.allowsAddress('::ffff:127.0.0.1')).toBe(true);
    expect(allow.allowsAddress('10.200.3.4')).toBe(true);
    expect(allow.allowsAddress('11.0.0.1')).toBe(false);
    expect(allow.allowsAddress('fd12::1')).toBe(true);
    expect(allow.allowsAddress('fe80::1')).toBe(false);
    expect(allow.allowsAddress('::1')).toBe(false);
    // A name entry is not an address entry.
    expect(allow.allowsAddress('localhost')).toBe(false);
  });

  it.each(['10.0.0.0/33', '::1/129', 'http://127.0.0.1', 'a b', '1.2.3.4/8/9', '*.example.com'])(
    'refuses %s with a message saying what to write',
    (entry) => {
      expect(() => parseAllowList([entry])).toThrowError(
        expect.objectContaining({ code: 'ALLOW_HOSTS_INVALID' }),
      );
    },
  );

  it('reads STIPEND_MCP_ALLOW_HOSTS separated by commas or spaces', () => {
    expect(allowHostsFromEnv({ STIPEND_MCP_ALLOW_HOSTS: ' 127.0.0.1,localhost  ::1 ' })).toEqual([
      '127.0.0.1',
      'localhost',
      '::1',
    ]);
    expect(allowHostsFromEnv({})).toEqual([]);
  });
});

describe('TargetBlockedError', () => {
  it('names the host, the addresses and how to allow them', () => {
    const error = new TargetBlockedError('localhost', [{ address: '::1', range: 'loopback' }]);
    expect(error.code).toBe('TARGET_BLOCKED');
    expect(error.message).toContain('localhost');
    expect(error.message).toContain('::1 (loopback)');
    expect(error.message).toContain('STIPEND_MCP_ALLOW_HOSTS');
    expect(error.toJSON().details).toEqual({
      hostname: 'localhost',
      addresses: [{ address: '::1', range: 'loopback' }],
    });
  });

  it('names the fix in the words of stipend mcp: the --allow-host flag with the host', () => {
    const error = new TargetBlockedError('127.0.0.1', [
      { address: '127.0.0.1', range: 'loopback' },
    ]);
    expect(error.message).toMatch(/stipend mcp --allow-host 127\.0\.0\.1 /);
    expect(error.message.indexOf('--allow-host')).toBeLessThan(error.message.indexOf('allowHosts'));
  });
});
