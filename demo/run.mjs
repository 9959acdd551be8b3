// `pnpm demo`: an agent pays a local 402 marketplace through createPayingFetch, under a
// readable policy, and prints what it paid. Everything runs on this machine.
//
// For now the marketplace runs on the testkit's `stipend-test` rail: a STAND-IN settlement
// network kept in memory and served over real HTTP on 127.0.0.1. It is not a real payment
// protocol. The x402 / L402 / MPP marketplace replaces it as those adapters land.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createPayingFetch, formatUsd, getPayment, isStipendError } from '@stipend/client';
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { startTestServer } from '@stipend/testkit/server';

const usdc = (dollars) => ({ amount: BigInt(Math.round(dollars * 1e6)), unit: TEST_USDC });
const rail = createTestRail();
const market = await startTestServer(
  createTestPaywall({
    rail,
    payee: 'weather-co',
    routes: {
      '/weather': { offers: [usdc(0.001)] },
      '/news': { offers: [{ ...usdc(0.002), payee: 'news-co' }] },
      '/report': { offers: [{ ...usdc(0.03), payee: 'analyst-co' }] },
      '/dataset': { offers: [{ ...usdc(0.25), payee: 'data-co' }] },
      '/translate': {
        offers: [
          { ...usdc(0.005), id: 'translate-premium', payee: 'lingo-a' },
          { ...usdc(0.003), id: 'translate-basic', payee: 'lingo-b' },
        ],
      },
    },
  }),
);

const policy = {
  global: {
    maxPerRequest: { usd: '0.10' }, // no single call above 10 cents
    limits: [{ usd: '1.00', window: { calendar: 'day' } }], // at most $1 a day
  },
  hosts: { '127.0.0.1': { approveAbove: '0.02' } }, // a person approves anything above 2 cents
};

const approvals = [];
const payingFetch = createPayingFetch({
  adapters: [testAdapter()],
  wallets: [testWallet({ rail, id: 'demo-wallet' })],
  policy,
  approver: async (request) => {
    const line = `approve ${formatUsd(request.usdMicros)} to ${request.payee} for ${new URL(request.resource).pathname}? → yes (auto-approved by the demo)`;
    approvals.push(line);
    console.log(`  ? ${line}`);
    return true;
  },
});

console.log(
  'Stipend demo — an agent buying from a local marketplace (stand-in rail, nothing real is spent)\n',
);
console.log(
  `Policy: $0.10 per request, $1.00 per day, approval above $0.02\nMarketplace: ${market.origin}\n`,
);

const refused = [];
const calls = ['/weather', '/news', '/weather', '/report', '/translate', '/dataset', '/free'];
for (const path of calls) {
  try {
    const res = await payingFetch(`${market.origin}${path}`);
    const payment = getPayment(res);
    console.log(
      `  ${res.status} ${path.padEnd(11)} ${payment ? `paid ${formatUsd(payment.record.committedUsdMicros ?? 0n)} to ${payment.record.payee}` : 'free'}`,
    );
  } catch (error) {
    const why = isStipendError(error) ? `${error.code}: ${error.shortMessage}` : String(error);
    refused.push({ path, why });
    console.log(`  ✗   ${path.padEnd(11)} refused — ${why}`);
  }
}

const records = await payingFetch.ledger.list();
const spent = records.reduce((sum, r) => sum + (r.committedUsdMicros ?? 0n), 0n);
const usage = await payingFetch.budget.usage(
  { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
  Date.now(),
);
console.log('\nSummary');
console.log('| resource | payee | rail | USD | status |');
console.log('|---|---|---|---|---|');
for (const r of records) {
  console.log(
    `| ${new URL(r.resource).pathname} | ${r.payee} | ${r.protocol}:${r.scheme} | ${formatUsd(r.committedUsdMicros ?? 0n)} | ${r.status} |`,
  );
}
for (const r of refused) console.log(`| ${r.path} | — | — | — | refused: ${r.why.split(':')[0]} |`);
console.log(
  `\nSpent ${formatUsd(spent)} · budget left today ${formatUsd(1_000_000n - usage.committedUsdMicros - usage.heldUsdMicros)} · approvals asked ${approvals.length}`,
);

mkdirSync('.stipend', { recursive: true });
const ledgerPath = '.stipend/demo-ledger.jsonl';
writeFileSync(
  ledgerPath,
  records
    .map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
    .join('\n') + '\n',
);
console.log(`Ledger written to ${ledgerPath}`);
await market.close();
