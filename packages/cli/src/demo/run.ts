/**
 * The main job: `pnpm demo` / `stipend demo`. Starts the local marketplace, runs an agent
 * through `createPayingFetch` under a readable policy, shows progress, prints a summary and
 * writes the ledger. Nothing to configure; nothing leaves 127.0.0.1.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  type ApprovalRequest,
  type Approver,
  createMemoryLedger,
  createPayingFetch,
  formatAmount,
  formatUsd,
  getCredentialUse,
  getPayment,
  isStipendError,
  lightningSessionMethod,
  type OfferSummary,
  type PriceSource,
  type SpendRecord,
  toUsdMicros,
} from '@stipend/client';
import type { Marketplace } from '@stipend/testkit/market';
import type { LightningSessionServer } from '@stipend/testkit/mpp';
import { LightningBackendError } from '@stipend/wallet-lightning';
import { describeApproval } from '../approve/approver.js';
import type { CliIo } from '../io.js';
import { formatJsonl } from '../ledger/jsonl.js';
import { renderTable } from '../output/table.js';
import { shortId } from '../output/words.js';
import { explainPolicy } from '../policy/explain.js';
import { loadTestkit, type Testkit } from '../testkit-peer.js';
import { buildPayingParts } from '../wallets/build.js';
import { DEMO_BTC_USD, DEMO_DAILY_BUDGET_MICROS, DEMO_POLICY } from './policy.js';
import { type DemoSessionResult, runSessionErrand } from './session.js';
import { DEMO_SESSION, type DemoStep, demoSteps } from './steps.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the ledger is written, relative to `io.cwd`. Default `.stipend/demo-ledger.jsonl`. */
  readonly ledgerPath?: string;
}

/** How one step ended. */
interface StepResult {
  readonly step: DemoStep;
  readonly outcome: 'paid' | 'reused' | 'refused' | 'failed';
  readonly status?: number;
  readonly record?: SpendRecord;
  readonly reusedFrom?: number;
  readonly code?: string;
  readonly reason?: string;
  /** Why each offer was refused (policy denial codes). */
  readonly denials?: readonly string[];
  readonly approved?: boolean;
  /** The offers the 402 carried, and the one chosen (for the two-protocol route). */
  readonly offers: readonly OfferSummary[];
  /** Their USD cost incl. maximum fee, by offer id (two-protocol routes only). */
  readonly costs?: ReadonlyMap<string, bigint>;
  readonly ms: number;
}

/**
 * Runs the demo. Returns the exit code: 0 when every step ended as scripted.
 *
 * @example
 * ```ts
 * import { runDemo } from '@stipend/cli';
 * import { processIo } from '@stipend/cli';
 * process.exitCode = await runDemo(processIo());
 * ```
 */
export async function runDemo(io: CliIo, options: DemoOptions = {}): Promise<number> {
  const out = (line = '') => io.stdout.write(`${line}\n`);
  const started = Date.now();
  out('Stipend demo — an agent paying a local 402 marketplace under a spend policy');
  out('Everything runs on this machine (127.0.0.1); nothing real is spent.');
  out();
  out('Starting the marketplace:');
  const testkit = await loadTestkit('demo');
  const market = await testkit.market.startMarketplace({
    onProgress: (line) => out(`  · ${line}`),
  });
  let code = 1;
  let seller: LightningSessionServer | undefined;
  try {
    out('  · starting the MPP Lightning session seller (aperture stand-in) on the same simulator');
    seller = await testkit.mpp.startLightningSessionServer({
      network: market.lightning.network,
      priceSats: DEMO_SESSION.priceSats,
      depositSats: DEMO_SESSION.depositSats,
    });
    code = await scenario(market, seller, testkit, io, out, options);
  } finally {
    await seller?.close();
    await market.close();
    out(
      `Stopped everything it started: anvil, the x402, L402, MPP and session sellers, the gateway, the Stripe and LND stand-ins. (${seconds(Date.now() - started)})`,
    );
  }
  return code;
}

async function scenario(
  market: Marketplace,
  seller: LightningSessionServer,
  testkit: Testkit,
  io: CliIo,
  out: (line?: string) => void,
  options: DemoOptions,
): Promise<number> {
  const nameOf = (id: string) => market.payees[id] ?? market.sellers[id];
  out(`  ✓ ready: x402 ${market.urls.x402} · L402 ${market.urls.l402} · MPP ${market.urls.mpp}`);
  out(`           gateway ${market.urls.gateway} · chain ${market.urls.rpc}`);
  out(`           Lightning sessions ${seller.origin}`);
  out();
  out('The agent holds (public test keys, local stand-ins):');
  out(`  · EVM ${market.agent.address} with 10 test USDC on the local chain`);
  out(`  · a Lightning node "${market.lightning.agentNode.alias}" in the simulator`);
  out(`  · a Stripe test card (${market.wallets.stripe.paymentMethod}) for Shared Payment Tokens`);
  out(
    `Prices: USDC and USD at par (pegPriceSource); Lightning at a FIXED $${Number(DEMO_BTC_USD).toLocaleString('en-US')} per BTC (fixedPriceSource), so 1 sat = $0.001.`,
  );
  out();
  out('Its spend policy:');
  out(`  ${JSON.stringify(DEMO_POLICY)}`);
  for (const line of explainPolicy(DEMO_POLICY).slice(0, 4)) out(`  ${line}`);
  out();

  const ledger = createMemoryLedger();
  const parts = buildPayingParts(
    {
      assets: market.wallets.assets,
      prices: { btcUsd: DEMO_BTC_USD },
      evm: { privateKey: market.agent.privateKey, rpcUrl: market.urls.rpc },
      stripe: market.wallets.stripe,
      lightning: { network: 'regtest' },
      sources: ['marketplace'],
      file: 'marketplace',
    },
    {
      fetch: globalThis.fetch,
      lightningBackend: testkit.lightning.simulatorBackend(market.lightning.network, {
        node: market.lightning.agentNode,
        error: (code, message, outcome, cause) =>
          new LightningBackendError(code, message, outcome, cause),
      }),
    },
  );
  const approvals: { question: string; answer: boolean }[] = [];
  const approver: Approver = async (request: ApprovalRequest) => {
    // The scripted person: one article a day is enough.
    const answer = new URL(request.resource).pathname === '/article';
    const question = describeApproval(request, nameOf);
    approvals.push({ question, answer });
    out(`      ? ${question}`);
    out(
      answer
        ? '      → yes (scripted answer)'
        : '      → no (scripted answer: one article a day is enough)',
    );
    return answer;
  };
  const payingFetch = createPayingFetch({
    wallets: parts.wallets,
    adapters: parts.adapters,
    prices: parts.prices,
    policy: DEMO_POLICY,
    ledger,
    approver,
    tags: ['demo-agent'],
    // MPP sessions: a deposit once, calls that pay nothing each, the rest refunded on close.
    sessions: { methods: [lightningSessionMethod()], idleCloseMs: 0, refundWaitMs: 5_000 },
  });
  let offers: OfferSummary[] = [];
  payingFetch.on('challenge', (event) => {
    offers = [...event.offers];
    out(
      `      402 Payment Required, ${event.offers.length} offer(s): ${event.offers.map(offerText).join(' · ')}`,
    );
  });
  payingFetch.on('decision', (event) => {
    out(
      `      policy picks ${event.offer.protocol} ${event.offer.scheme} (${formatUsd(event.usdMicros)} incl. max fee) → wallet ${event.walletId}`,
    );
  });

  const steps = demoSteps(market);
  const results: StepResult[] = [];
  const paidAt = new Map<string, number>();
  for (const [i, step] of steps.entries()) {
    out(`[${i + 1}/${steps.length}] ${step.title}`);
    out(`      GET ${step.url}`);
    offers = [];
    const asked = approvals.length;
    const t0 = Date.now();
    let result: StepResult;
    try {
      const response = await payingFetch(step.url);
      const body = await response.text();
      const payment = getPayment(response);
      const reused = getCredentialUse(response);
      if (payment) {
        paidAt.set(payment.record.reference ?? payment.record.id, i + 1);
        result = {
          step,
          outcome: payment.status === 'paid' ? 'paid' : 'failed',
          status: response.status,
          record: payment.record,
          approved: approvals.slice(asked).some((a) => a.answer),
          offers,
          ms: Date.now() - t0,
        };
      } else if (reused) {
        result = {
          step,
          outcome: 'reused',
          status: response.status,
          ...(paidAt.has(reused.reference) ? { reusedFrom: paidAt.get(reused.reference)! } : {}),
          offers,
          ms: Date.now() - t0,
        };
      } else {
        result = {
          step,
          outcome: 'failed',
          status: response.status,
          reason: `answered ${response.status} without a payment: ${body.slice(0, 80)}`,
          offers,
          ms: Date.now() - t0,
        };
      }
    } catch (error) {
      result = {
        step,
        outcome: 'refused',
        code: isStipendError(error) ? error.code : 'ERROR',
        reason: refusalText(error),
        denials: denialCodes(error),
        offers,
        ms: Date.now() - t0,
      };
    }
    if (result.offers.length > 1 && result.outcome === 'paid') {
      const priced = await priceOffers(result.offers, parts.prices);
      result = { ...result, costs: priced };
      out(
        `      compared in USD (max fees included): ${result.offers
          .map(
            (o) =>
              `${o.protocol} ${o.scheme} ${priced.has(o.id) ? formatUsd(priced.get(o.id)!) : 'unpriced'}`,
          )
          .join(' · ')} → the cheapest allowed one pays, once`,
      );
    }
    results.push(result);
    out(`      ${stepLine(result, nameOf)} (${seconds(result.ms)})`);
    out();
  }

  out(`[session] ${DEMO_SESSION.title}`);
  const t0 = Date.now();
  const agentPayments = () =>
    market.lightning.network.payments.filter(
      (p) => p.payer === market.lightning.agentNode.alias && p.status === 'succeeded',
    ).length;
  let session: DemoSessionResult;
  try {
    session = await runSessionErrand(payingFetch, seller, DEMO_SESSION, agentPayments, out);
  } catch (error) {
    const reason = refusalText(error);
    session = {
      ok: false,
      payments: 0,
      committedUsdMicros: 0n,
      line: `Session: ✗ ${reason}`,
      reason,
    };
  }
  out(`      ${session.ok ? '✓' : '✗'} ${session.line} (${seconds(Date.now() - t0)})`);
  out();

  // Budget left in the daily limit, and what the chain says.
  const now = Date.now();
  const day = await payingFetch.budget.usage(
    { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
    now,
  );
  const spent = day.committedUsdMicros;
  const left = DEMO_DAILY_BUDGET_MICROS - day.committedUsdMicros - day.heldUsdMicros;
  const counters = await market.counters();

  out('Summary');
  out(
    renderTable(
      ['#', 'call', 'outcome', 'paid to', 'rail', 'USD', 'note'],
      results.map((r, i) => summaryRow(r, i, nameOf)),
      { right: [5] },
    ),
  );
  out();
  out(
    `Spent ${formatUsd(spent)} of the ${formatUsd(DEMO_DAILY_BUDGET_MICROS)} daily budget; ${formatUsd(left)} left today.`,
  );
  out(session.line);
  const refused = results.filter((r) => r.outcome === 'refused');
  if (refused.length > 0) {
    out('Refused, and why:');
    for (const r of refused) {
      out(`  · ${new URL(r.step.url).pathname}: ${r.code} — ${r.reason}`);
    }
  }
  out(
    `Approvals asked: ${approvals.length} (${approvals.filter((a) => a.answer).length} yes, ${approvals.filter((a) => !a.answer).length} no).`,
  );
  out(
    `Checked on the rails: the agent's USDC went from 10.000000 to ${formatUnits6(counters.agentTokenBalance)} (${counters.x402Settlements} x402 settlement(s) on-chain); ${counters.lightningPayments} Lightning payment(s) in the simulator; ${counters.paymentIntents} Stripe PaymentIntent(s) at the stand-in.`,
  );

  const records = await ledger.list();
  const ledgerPath = resolve(io.cwd, options.ledgerPath ?? '.stipend/demo-ledger.jsonl');
  mkdirSync(dirname(ledgerPath), { recursive: true });
  writeFileSync(ledgerPath, formatJsonl(records));
  out(
    `Ledger: ${records.length} spend record(s) written to ${options.ledgerPath ?? '.stipend/demo-ledger.jsonl'} (read it with: pnpm stipend ledger --ledger ${options.ledgerPath ?? '.stipend/demo-ledger.jsonl'} in a clone, or npx @stipend/cli ledger --ledger …).`,
  );

  const wrong = results.filter(
    (r) =>
      r.outcome !== r.step.expect ||
      (r.step.code !== undefined && r.code !== r.step.code) ||
      (r.step.rail !== undefined &&
        r.record !== undefined &&
        `${r.record.protocol}:${r.record.scheme}` !== r.step.rail),
  );
  if (!session.ok) {
    io.stderr.write(`demo: the session errand did not end as scripted: ${session.reason ?? ''}\n`);
  }
  if (wrong.length > 0 || !session.ok) {
    for (const r of wrong) {
      io.stderr.write(
        `demo: step "${r.step.title}" ended ${r.outcome}${r.code ? ` (${r.code})` : ''}, expected ${r.step.expect}${r.step.code ? ` (${r.step.code})` : ''}: ${r.reason ?? ''}\n`,
      );
    }
    return 1;
  }
  out('Every step ended as scripted.');
  return 0;
}

/** USD cost of each offer incl. its maximum fee, by id; unpriceable ones are left out. */
async function priceOffers(
  offers: readonly OfferSummary[],
  prices: PriceSource,
): Promise<Map<string, bigint>> {
  const now = Date.now();
  const costs = new Map<string, bigint>();
  for (const offer of offers) {
    try {
      const main = await toUsdMicros(offer.amount, prices, { now, maxAgeMs: 60_000 });
      const fee = offer.maxFee
        ? (await toUsdMicros(offer.maxFee, prices, { now, maxAgeMs: 60_000 })).usdMicros
        : 0n;
      costs.set(offer.id, main.usdMicros + fee);
    } catch {
      // not priceable: shown without a USD figure
    }
  }
  return costs;
}

function offerText(offer: OfferSummary): string {
  const fee = offer.maxFee ? ` + fee ≤ ${safeAmount(offer.maxFee)}` : '';
  // Long token ids (a unit key with an address) are shortened for the progress line.
  const amount = safeAmount(offer.amount).replace(/0x[0-9a-fA-F]{40}/g, (a) => shortId(a));
  return `${offer.protocol} ${offer.scheme} ${amount}${fee}`;
}

function safeAmount(amount: OfferSummary['amount']): string {
  try {
    return formatAmount(amount);
  } catch {
    return `${amount.value}`;
  }
}

function denialCodes(error: unknown): string[] {
  if (!isStipendError(error)) return [];
  const offers = (error.details as { offers?: { code?: string }[] }).offers ?? [];
  return offers.map((o) => o.code ?? '');
}

function refusalText(error: unknown): string {
  if (!isStipendError(error)) return String((error as Error)?.message ?? error);
  const denied = (
    error.details as { offers?: { protocol: string; scheme: string; reason: string }[] }
  ).offers;
  if (error.code === 'POLICY_DENIED' && denied && denied.length > 0) {
    return denied.map((o) => `${o.protocol} ${o.scheme}: ${o.reason}`).join('; ');
  }
  return error.shortMessage;
}

function payeeText(record: SpendRecord, nameOf: (id: string) => string | undefined): string {
  const name = nameOf(record.payee) ?? nameOf(record.origin);
  // L402 invoices of the testkit carry no payee key tag: the payee is then 'unverified'.
  if (record.payee === 'unverified') return name ?? 'an unnamed payee';
  return name ? `${name} (${shortId(record.payee)})` : shortId(record.payee);
}

function stepLine(result: StepResult, nameOf: (id: string) => string | undefined): string {
  switch (result.outcome) {
    case 'paid': {
      const r = result.record!;
      return `✓ ${result.status} — paid ${formatUsd(r.committedUsdMicros ?? r.reservedUsdMicros)} (${safeAmount(r.amount)}) to ${payeeText(r, nameOf)} by ${r.protocol}:${r.scheme}`;
    }
    case 'reused':
      return `✓ ${result.status} — reused the L402 credential paid${result.reusedFrom ? ` in step ${result.reusedFrom}` : ' earlier'}; nothing new paid`;
    case 'refused':
      return `✗ refused — ${result.code}: ${result.reason}`;
    default:
      return `✗ ${result.status ?? ''} ${result.reason ?? 'the payment did not go through'}`;
  }
}

function summaryRow(
  r: StepResult,
  index: number,
  nameOf: (id: string) => string | undefined,
): string[] {
  const call = `GET ${new URL(r.step.url).pathname}`;
  if (r.outcome === 'paid' && r.record) {
    const rec = r.record;
    const notes: string[] = [];
    if (r.approved) notes.push('approved by a person');
    if (r.offers.length > 1) {
      const others = r.offers
        .filter((o) => o.id !== rec.offerId)
        .map((o) => {
          const usd = r.costs?.get(o.id);
          return `${o.protocol} ${usd !== undefined ? formatUsd(usd) : safeAmount(o.amount)}`;
        });
      if (others.length > 0) notes.push(`cheaper than ${others.join(', ')}`);
    }
    return [
      String(index + 1),
      call,
      'paid',
      payeeText(rec, nameOf),
      `${rec.protocol}:${rec.scheme}`,
      formatUsd(rec.committedUsdMicros ?? rec.reservedUsdMicros),
      notes.join('; '),
    ];
  }
  if (r.outcome === 'reused') {
    return [
      String(index + 1),
      call,
      'reused',
      nameOf(new URL(r.step.url).origin) ?? '',
      r.step.rail ?? '',
      '$0.00',
      `credential from step ${r.reusedFrom ?? '?'}`,
    ];
  }
  const short = r.denials?.includes('per_request_cap')
    ? 'above the per-request cap'
    : r.code === 'APPROVAL_DENIED'
      ? 'the person said no'
      : (r.code ?? r.reason ?? '');
  return [String(index + 1), call, r.outcome, '—', '—', '—', short];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function formatUnits6(atomic: bigint): string {
  return `${atomic / 1_000_000n}.${(atomic % 1_000_000n).toString().padStart(6, '0')}`;
}
