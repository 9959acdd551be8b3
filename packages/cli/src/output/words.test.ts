import { describe, expect, it } from 'vitest';
import { printable, shortId, windowWords } from './words.js';

describe('words', () => {
  it('shortens long ids only', () => {
    expect(shortId('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC')).toBe('0x3C44…93BC');
    expect(shortId('stripe')).toBe('stripe');
  });
  it('says windows in words', () => {
    expect(windowWords('calendar:week')).toBe('UTC week');
    expect(windowWords('rolling:86400000')).toBe('rolling 1 d');
    expect(windowWords('rolling:5400000')).toBe('rolling 90 min');
    expect(windowWords('rolling:1500')).toBe('rolling 1.5 s');
    expect(windowWords('total')).toBe('all time');
  });
  it('makes server text printable: no escape, carriage return or bidi override reaches a terminal', () => {
    expect(printable('acme\u001b[2J\r\u202egpj.exe')).toBe('acme\ufffd[2J\ufffd\ufffdgpj.exe');
    expect(printable('\u009b31m')).toBe('\ufffd31m');
    expect(printable('plain café ✓')).toBe('plain café ✓');
  });
  it('cuts long text by characters, not code units', () => {
    expect(printable('a'.repeat(10), 5)).toBe('aaaa…');
    expect(printable('😀'.repeat(5), 5)).toBe('😀'.repeat(5));
  });
});
