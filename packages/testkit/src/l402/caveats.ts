/**
 * L402 caveats and an aperture-equivalent verifier (`l402/caveat.go`, `l402/satisfier.go`,
 * `l402/service.go` semantics, written anew): caveats are grouped by condition; repeated
 * caveats of a known condition may only narrow (a later `services` list must be a subset,
 * a later `<service>_valid_until` must not be later); the last one decides; caveats with an
 * unknown condition are ignored.
 */

/** A first-party caveat `condition=value`. */
export interface Caveat {
  condition: string;
  value: string;
}

/** One entry of a `services` caveat. */
export interface ServiceEntry {
  name: string;
  tier: number;
}

/** Condition of the services caveat. */
export const SERVICES_CONDITION = 'services';
/** Suffix of a service's capabilities caveat condition (`<service>_capabilities`). */
export const CAPABILITIES_SUFFIX = '_capabilities';
/** Suffix of a service's expiry caveat condition (`<service>_valid_until`, unix seconds). */
export const VALID_UNTIL_SUFFIX = '_valid_until';

/**
 * Splits `condition=value` at the first `=`; null when there is none.
 *
 * @example
 * ```ts
 * import { decodeCaveat } from '@stipend/testkit/l402';
 * decodeCaveat('services=quotes:0'); // { condition: 'services', value: 'quotes:0' }
 * ```
 */
export function decodeCaveat(text: string): Caveat | null {
  const at = text.indexOf('=');
  if (at < 0) return null;
  return { condition: text.slice(0, at), value: text.slice(at + 1) };
}

/**
 * Encodes a services caveat, e.g. `services=quotes:0,reports:1`.
 *
 * @example
 * ```ts
 * import { servicesCaveat } from '@stipend/testkit/l402';
 * servicesCaveat([{ name: 'quotes', tier: 0 }]); // 'services=quotes:0'
 * ```
 */
export function servicesCaveat(services: ServiceEntry[]): string {
  if (services.length === 0) throw new RangeError('a services caveat needs at least one service');
  const parts = services.map((s) => {
    if (!s.name || /[,:=]/.test(s.name)) {
      throw new TypeError(
        `service name ${JSON.stringify(s.name)} must be non-empty, without , : =`,
      );
    }
    if (!Number.isInteger(s.tier) || s.tier < 0 || s.tier > 255) {
      throw new RangeError(`service tier must be an integer 0..255, got ${s.tier}`);
    }
    return `${s.name}:${s.tier}`;
  });
  return `${SERVICES_CONDITION}=${parts.join(',')}`;
}

/**
 * Parses the value of a services caveat (`name:tier[,name:tier]`); throws when malformed.
 *
 * @example
 * ```ts
 * import { decodeServices } from '@stipend/testkit/l402';
 * decodeServices('quotes:0,reports:1'); // [{ name: 'quotes', tier: 0 }, { name: 'reports', tier: 1 }]
 * ```
 */
export function decodeServices(value: string): ServiceEntry[] {
  if (value === '') throw new Error('no services found');
  return value.split(',').map((raw) => {
    const parts = raw.split(':');
    const [name, tier] = parts;
    if (parts.length !== 2 || !name || tier === undefined || !/^\d+$/.test(tier)) {
      throw new Error(`service must be of the form "name:tier", got ${JSON.stringify(raw)}`);
    }
    return { name, tier: Number(tier) };
  });
}

interface Satisfier {
  condition: string;
  previous(prev: string, cur: string): string | null;
  final(value: string): string | null;
}

function servicesSatisfier(target: string): Satisfier {
  return {
    condition: SERVICES_CONDITION,
    previous(prev, cur) {
      const allowed = new Set(decodeServices(prev).map((s) => s.name));
      for (const s of decodeServices(cur)) {
        if (!allowed.has(s.name)) return `service ${s.name} not previously allowed`;
      }
      return null;
    },
    final(value) {
      return decodeServices(value).some((s) => s.name === target)
        ? null
        : `target service ${target} not authorized`;
    },
  };
}

function parseUnixSeconds(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new Error(`caveat value not a valid integer: ${value}`);
  return Number(value);
}

function validUntilSatisfier(service: string, nowSeconds: number): Satisfier {
  const condition = service + VALID_UNTIL_SUFFIX;
  return {
    condition,
    previous(prev, cur) {
      return parseUnixSeconds(prev) < parseUnixSeconds(cur)
        ? `${condition} caveat violates increasing restrictiveness`
        : null;
    },
    final(value) {
      return nowSeconds < parseUnixSeconds(value)
        ? null
        : 'not authorized to access service. L402 has expired';
    },
  };
}

function capabilitiesSatisfier(service: string, capability: string): Satisfier {
  return {
    condition: service + CAPABILITIES_SUFFIX,
    previous(prev, cur) {
      const allowed = new Set(prev.split(','));
      for (const c of cur.split(',')) {
        if (!allowed.has(c)) return `capability ${c} not previously allowed`;
      }
      return null;
    },
    final(value) {
      return value.split(',').includes(capability)
        ? null
        : `target capability ${capability} not authorized`;
    },
  };
}

/** What {@link verifyL402Caveats} checks against. */
export interface CaveatContext {
  /** The service the request targets. */
  service: string;
  /** Current time, unix seconds. */
  nowSeconds: number;
  /**
   * A capability the request needs. aperture has this satisfier but does not wire it; set it
   * only to emulate a backend that checks `<service>_capabilities`.
   */
  capability?: string;
}

/**
 * Checks caveat strings (in macaroon order) the way aperture's `VerifyCaveats` does with the
 * services and timeout satisfiers (plus the capabilities satisfier when `capability` is set).
 * Returns null when satisfied, else the reason.
 *
 * @example
 * ```ts
 * import { verifyL402Caveats } from '@stipend/testkit/l402';
 * verifyL402Caveats(['services=quotes:0', 'quotes_valid_until=4102444800'], {
 *   service: 'quotes',
 *   nowSeconds: Math.floor(Date.now() / 1000),
 * }); // null
 * ```
 */
export function verifyL402Caveats(caveats: string[], context: CaveatContext): string | null {
  const satisfiers = [
    servicesSatisfier(context.service),
    validUntilSatisfier(context.service, context.nowSeconds),
  ];
  if (context.capability !== undefined) {
    satisfiers.push(capabilitiesSatisfier(context.service, context.capability));
  }
  for (const satisfier of satisfiers) {
    const values = caveats
      .map(decodeCaveat)
      .filter((c): c is Caveat => c !== null && c.condition === satisfier.condition)
      .map((c) => c.value);
    if (values.length === 0) continue;
    try {
      for (let i = 1; i < values.length; i++) {
        const problem = satisfier.previous(values[i - 1] as string, values[i] as string);
        if (problem) return problem;
      }
      const problem = satisfier.final(values[values.length - 1] as string);
      if (problem) return problem;
    } catch (error) {
      return (error as Error).message;
    }
  }
  return null;
}
