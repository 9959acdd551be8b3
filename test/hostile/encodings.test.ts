/**
 * Encoding attacks on the 402 (invariants 1, 5, 8): every header and byte of the challenge is
 * the seller's. Huge, duplicated, oddly cased headers; base64 with junk; JSON that is not
 * UTF-8 or carries `__proto__`; amounts as floats, exponents, negatives, huge values or with
 * leading zeros; decimals the seller claims. Each case ends fast, signs nothing the policy
 * did not approve for exactly what was asked (counted at the wallet), and ends typed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type RawSeller,
  type Seller,
  startRawSeller,
  startSeller,
} from './sellers.test-helpers.js';
import {
  b64,
  countingWallet,
  end,
  payingFetchFor,
  paymentRequired,
  REFUSED_CHALLENGE,
  receipt,
  requirement,
  TIMEOUT_MS,
  timed,
  typed,
  USDC,
} from './x402.test-helpers.js';

const CASE = { timeout: 10_000 };
const ENDS_WITHIN = TIMEOUT_MS * 4;

let seller: Seller;
let raw: RawSeller;
beforeAll(async () => {
  seller = await startSeller();
  raw = await startRawSeller();
});
afterAll(async () => {
  await seller.close();
  await raw.close();
});
beforeEach(() => {
  seller.hits.length = 0;
});

/** The seller answers every request without a proof with these headers, and proofs with 200. */
function answer402(headers: Record<string, string | string[]>, body = '{}') {
  seller.handler = (hit, res) => {
    if (hit.headers['payment-signature']) {
      res.writeHead(200, { 'payment-response': receipt() }).end('paid');
      return;
    }
    res.writeHead(402, { 'content-type': 'application/json', ...headers }).end(body);
  };
}

/** The call ends typed as a refused challenge, nothing signed, no proof sent. */
async function expectRefused(headers: Record<string, string | string[]>) {
  answer402(headers);
  const wallet = countingWallet();
  const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
  expect(ms).toBeLessThan(ENDS_WITHIN);
  expect(REFUSED_CHALLENGE).toContain(typed(ended).code);
  expect(wallet.signed).toHaveLength(0);
  expect(seller.hits.filter((hit) => hit.headers['payment-signature'])).toHaveLength(0);
}

describe('hostile headers', () => {
  it('a huge PAYMENT-REQUIRED header (60 KB) ends the call, nothing signed', CASE, async () => {
    const accepts = Array.from({ length: 200 }, (_, i) =>
      requirement({ extra: { name: 'USDC', version: '2', pad: 'x'.repeat(200 + i) } }),
    );
    answer402({ 'payment-required': paymentRequired(accepts) });
    const wallet = countingWallet();
    const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
    expect(ms).toBeLessThan(ENDS_WITHIN);
    expect('error' in ended).toBe(true);
    expect(wallet.signed).toHaveLength(0);
  });

  it(
    'rule 2: one 402 listing 64 payable offers is paid at most once, for one offer',
    CASE,
    async () => {
      const accepts = Array.from({ length: 64 }, () => requirement());
      answer402({ 'payment-required': paymentRequired(accepts) });
      const wallet = countingWallet();
      const { ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect(wallet.signed.length).toBeLessThanOrEqual(1);
      expect(wallet.total()).toBeLessThanOrEqual(10_000n);
    },
  );

  it(
    'rule 5: two PAYMENT-REQUIRED headers with different terms are refused, never one picked',
    CASE,
    async () => {
      await expectRefused({
        'payment-required': [
          paymentRequired([requirement({ amount: '1' })]),
          paymentRequired([requirement({ amount: '40000' })]),
        ],
      });
    },
  );

  it(
    'header names are case-insensitive: an oddly cased PaYmEnT-ReQuIrEd is read as the same header (control)',
    CASE,
    async () => {
      seller.handler = (hit, res) => {
        if (hit.headers['payment-signature']) {
          res.writeHead(200, { 'PAYMENT-response': receipt() }).end('paid');
          return;
        }
        res.writeHead(402, ['PaYmEnT-ReQuIrEd', paymentRequired()]).end('{}');
      };
      const wallet = countingWallet();
      const ended = await end(payingFetchFor(wallet)(`${seller.origin}/paid`));
      if ('error' in ended) throw ended.error;
      expect(ended.response.status).toBe(200);
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'a header value with raw non-ASCII bytes (latin-1) ends the call, nothing signed',
    CASE,
    async () => {
      raw.onRequest = (socket) => {
        const head = Buffer.concat([
          Buffer.from('HTTP/1.1 402 Payment Required\r\npayment-required: eyJ4\xff\xfe', 'latin1'),
          Buffer.from('\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}', 'latin1'),
        ]);
        socket.end(head);
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${raw.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect('error' in ended || ended.response.status === 402).toBe(true);
      if ('error' in ended)
        expect(REFUSED_CHALLENGE.concat('TIMEOUT')).toContain(typed(ended).code);
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it(
    'a pathological WWW-Authenticate (10 KB of quotes and commas) beside junk terms ends fast, nothing signed',
    CASE,
    async () => {
      answer402({
        'www-authenticate': `Payment ${'a="\\",'.repeat(1600)}`,
        'payment-required': 'not base64!',
      });
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect(REFUSED_CHALLENGE).toContain(typed(ended).code);
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it(
    'a Content-Length that lies (longer than the body) ends the call, nothing signed',
    CASE,
    async () => {
      raw.onRequest = (socket) => {
        socket.end(
          'HTTP/1.1 402 Payment Required\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"x402Version":1',
        );
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${raw.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect(wallet.signed).toHaveLength(0);
      expect('error' in ended || ended.response.status === 402).toBe(true);
    },
  );
});

describe('hostile base64 and JSON', () => {
  const body = JSON.stringify({ x402Version: 2, accepts: [requirement()] });
  const cases: [string, string][] = [
    ['base64url alphabet instead of standard', Buffer.from(body).toString('base64url')],
    ['missing padding', b64(`${body} `).replace(/=+$/, '')],
    ['junk appended', `${b64(body)}@@`],
    ['junk inside', `${b64(body).slice(0, 8)}*${b64(body).slice(8)}`],
    ['base64 of base64', b64(b64(body))],
    ['empty', ''],
  ];
  for (const [name, value] of cases) {
    it(`rule 5: PAYMENT-REQUIRED with ${name} is refused, nothing signed`, CASE, async () => {
      await expectRefused({ 'payment-required': value });
    });
  }

  it(
    'rule 5: JSON that is not UTF-8 (lone 0xFF bytes in a string) is refused, nothing signed',
    CASE,
    async () => {
      const bytes = Buffer.concat([
        Buffer.from(
          '{"x402Version":2,"accepts":[{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"',
        ),
        Buffer.from(USDC),
        Buffer.from('","payTo":"0x\xff\xfe","maxTimeoutSeconds":60}]}', 'latin1'),
      ]);
      await expectRefused({ 'payment-required': bytes.toString('base64') });
    },
  );

  it(
    'rule 5: a requirement whose fields sit only under "__proto__" is refused (never read through a prototype)',
    CASE,
    async () => {
      const value = b64(
        `{"x402Version":2,"accepts":[{"__proto__":${JSON.stringify(requirement())}}]}`,
      );
      await expectRefused({ 'payment-required': value });
      expect(({} as Record<string, unknown>).amount).toBeUndefined();
    },
  );

  it(
    'rule 1: "__proto__" beside the real fields changes nothing: exactly the stated amount is signed, no prototype polluted',
    CASE,
    async () => {
      const own = JSON.stringify(requirement()).slice(1, -1);
      const value = b64(
        `{"x402Version":2,"__proto__":{"accepts":[]},"accepts":[{"__proto__":{"amount":"1","payTo":"0xevil"},${own}}]}`,
      );
      answer402({ 'payment-required': value });
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(wallet.signed.length).toBeLessThanOrEqual(1);
      for (const signed of wallet.signed) {
        expect(signed.amount).toBe(10_000n);
        expect(signed.payee.toLowerCase()).not.toBe('0xevil');
      }
      expect(({} as Record<string, unknown>).amount).toBeUndefined();
      expect(({} as Record<string, unknown>).accepts).toBeUndefined();
    },
  );

  it('rule 5: an unknown x402Version is refused, nothing signed', CASE, async () => {
    await expectRefused({
      'payment-required': b64(JSON.stringify({ x402Version: 3, accepts: [requirement()] })),
    });
  });
});

describe('hostile amounts', () => {
  const amounts: [string, unknown][] = [
    ['a float', '0.01'],
    ['an exponent', '1e4'],
    ['a negative amount', '-10000'],
    ['leading zeros', '010000'],
    ['a JSON number instead of a string', 10000],
    ['a JSON float number', 10000.5],
    ['hex', '0x2710'],
    ['surrounding spaces', ' 10000 '],
    ['full-width digits', '１００００'],
    ['a plus sign', '+10000'],
    ['an empty string', ''],
    ['digits with an underscore', '10_000'],
  ];
  for (const [name, amount] of amounts) {
    it(
      `rule 5: an amount written as ${name} (${JSON.stringify(amount)}) is refused, nothing signed`,
      CASE,
      async () => {
        await expectRefused({ 'payment-required': paymentRequired([requirement({ amount })]) });
      },
    );
  }

  it(
    'rule 1: a huge amount (10^40 atomic units) is denied by the policy, nothing signed',
    CASE,
    async () => {
      await expectRefused({
        'payment-required': paymentRequired([requirement({ amount: `1${'0'.repeat(40)}` })]),
      });
    },
  );

  it(
    'rule 1: an amount just above the per-request cap ($0.050001) is denied, nothing signed',
    CASE,
    async () => {
      await expectRefused({
        'payment-required': paymentRequired([requirement({ amount: '50001' })]),
      });
    },
  );

  it(
    'rule 8: decimals the seller claims are ignored: 10^12 units "with 18 decimals" is priced at USDC’s 6 and denied',
    CASE,
    async () => {
      await expectRefused({
        'payment-required': paymentRequired([
          requirement({
            amount: '1000000000000',
            extra: { name: 'USDC', version: '2', decimals: 18 },
          }),
        ]),
      });
    },
  );

  it('rule 5: an asset the client does not know is refused, never guessed', CASE, async () => {
    await expectRefused({
      'payment-required': paymentRequired([
        requirement({ asset: '0x1111111111111111111111111111111111111111' }),
      ]),
    });
  });

  it('rule 5: a known asset address claimed on another network is refused', CASE, async () => {
    await expectRefused({
      'payment-required': paymentRequired([requirement({ network: 'eip155:8453' })]),
    });
  });

  it(
    'rule 1: a maxTimeoutSeconds of a billion never yields an authorization longer than the policy allows',
    CASE,
    async () => {
      answer402({
        'payment-required': paymentRequired([requirement({ maxTimeoutSeconds: 1_000_000_000 })]),
      });
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${seller.origin}/paid`));
      for (const signed of wallet.signed) expect(signed.ttlSec).toBeLessThanOrEqual(300);
    },
  );

  it(
    'rule 4: a challenge whose resource names another origin binds the offer to the origin that answered',
    CASE,
    async () => {
      answer402({
        'payment-required': paymentRequired([requirement()], {
          resource: { url: 'https://evil.example/steal' },
        }),
      });
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${seller.origin}/paid`));
      for (const signed of wallet.signed) expect(signed.origin).toBe(seller.origin);
    },
  );
});
