/**
 * ISO 4217 minor-unit exponents of the active currencies (number of digits after the decimal
 * point of the minor unit). The exponent is looked up, never assumed: zero-decimal (JPY, KRW)
 * and three-decimal (BHD, KWD) currencies exist. Funds and precious-metal codes without a minor
 * unit (XAU, XDR, XXX...) are deliberately absent.
 */

// biome-ignore format: compact code table
const ZERO_DECIMALS = [
  'BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV',
  'XAF', 'XOF', 'XPF',
];

// biome-ignore format: compact code table
const THREE_DECIMALS = [
  'BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND',
];

// biome-ignore format: compact code table
const FOUR_DECIMALS = [
  'CLF', 'UYW',
];

// biome-ignore format: compact code table
const TWO_DECIMALS = [
  'AED', 'AFN', 'ALL', 'AMD', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD', 'BDT', 'BGN', 'BMD',
  'BND', 'BOB', 'BOV', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD', 'CAD', 'CDF', 'CHE', 'CHF', 'CHW',
  'CNY', 'COP', 'COU', 'CRC', 'CUP', 'CVE', 'CZK', 'DKK', 'DOP', 'DZD', 'EGP', 'ERN', 'ETB', 'EUR',
  'FJD', 'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GTQ', 'GYD', 'HKD', 'HNL', 'HTG', 'HUF', 'IDR',
  'ILS', 'INR', 'IRR', 'JMD', 'KES', 'KGS', 'KHR', 'KPW', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD',
  'LSL', 'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MXV',
  'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN',
  'QAR', 'RON', 'RSD', 'RUB', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD',
  'SSP', 'STN', 'SVC', 'SYP', 'SZL', 'THB', 'TJS', 'TMT', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH',
  'USD', 'USN', 'UZS', 'VED', 'VES', 'WST', 'XCD', 'XCG', 'YER', 'ZAR', 'ZMW', 'ZWG',
];

function buildTable(): ReadonlyMap<string, number> {
  const table = new Map<string, number>();
  const groups = [
    [ZERO_DECIMALS, 0],
    [TWO_DECIMALS, 2],
    [THREE_DECIMALS, 3],
    [FOUR_DECIMALS, 4],
  ] as const;
  for (const [codes, exponent] of groups) {
    for (const code of codes) {
      if (table.has(code)) throw new Error(`ISO 4217 table lists ${code} twice`);
      table.set(code, exponent);
    }
  }
  return table;
}

const EXPONENTS = buildTable();

/**
 * Minor-unit exponent of an ISO 4217 currency code (upper-case), or `undefined` when the code
 * is not in the table.
 *
 * @example
 * ```ts
 * import { iso4217Exponent } from '@stipend/client';
 * iso4217Exponent('USD'); // 2
 * iso4217Exponent('JPY'); // 0
 * iso4217Exponent('KWD'); // 3
 * iso4217Exponent('ZZZ'); // undefined
 * ```
 */
export function iso4217Exponent(code: string): number | undefined {
  return EXPONENTS.get(code);
}

/**
 * Every currency code known to the exponent table, sorted.
 *
 * @example
 * ```ts
 * import { iso4217Codes } from '@stipend/client';
 * iso4217Codes().includes('EUR'); // true
 * ```
 */
export function iso4217Codes(): string[] {
  return [...EXPONENTS.keys()].sort();
}
