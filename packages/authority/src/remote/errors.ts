/**
 * Delegation errors: what the authority (and the remote wallet, for a cheap early refusal)
 * says when a delegation token cannot pay. Switch on `code`; `reason` says which check failed.
 *
 * @module
 */

import { StipendError } from '@stipend/client';
import { isStipendErrorCode } from '@stipend/client/internal';

/** Stable codes of delegation errors. */
export type DelegationErrorCode =
  /** Malformed, tampered (signature), widened, revoked, or carries a caveat nobody knows. */
  | 'DELEGATION_INVALID'
  /** Past its `stipend_expires` caveat. */
  | 'DELEGATION_EXPIRED'
  /** Over a total or per-request USD cap. */
  | 'DELEGATION_EXCEEDED'
  /** The host, method or protocol is outside what the token allows. */
  | 'DELEGATION_OUT_OF_SCOPE'
  /** The rail's proof would hand the sub-agent a secret (L402 preimages): refused in remote mode. */
  | 'DELEGATION_RAIL_REFUSED';

/** Which check failed. */
export type DelegationReason =
  | 'malformed'
  | 'signature'
  | 'unknown_caveat'
  | 'widened'
  | 'revoked'
  | 'expired'
  | 'total'
  | 'per_request'
  | 'host'
  | 'method'
  | 'protocol'
  | 'secret_proof';

const CODE_OF: Record<DelegationReason, DelegationErrorCode> = {
  malformed: 'DELEGATION_INVALID',
  signature: 'DELEGATION_INVALID',
  unknown_caveat: 'DELEGATION_INVALID',
  widened: 'DELEGATION_INVALID',
  revoked: 'DELEGATION_INVALID',
  expired: 'DELEGATION_EXPIRED',
  total: 'DELEGATION_EXCEEDED',
  per_request: 'DELEGATION_EXCEEDED',
  host: 'DELEGATION_OUT_OF_SCOPE',
  method: 'DELEGATION_OUT_OF_SCOPE',
  protocol: 'DELEGATION_OUT_OF_SCOPE',
  secret_proof: 'DELEGATION_RAIL_REFUSED',
};

/**
 * A delegation token may not pay this. `code` is one of {@link DelegationErrorCode};
 * `reason` names the check; `details` are secret-free (never the token itself).
 *
 * @example
 * ```ts
 * import { DelegationError } from '@stipend/authority/remote';
 *
 * try {
 *   await authority.pay(token, request);
 * } catch (error) {
 *   if (error instanceof DelegationError && error.code === 'DELEGATION_EXCEEDED') console.warn(error.shortMessage);
 * }
 * ```
 */
export class DelegationError extends StipendError {
  override name = 'DelegationError';
  declare readonly code: DelegationErrorCode;
  readonly reason: DelegationReason;
  constructor(params: {
    reason: DelegationReason;
    message: string;
    details?: Record<string, unknown>;
    cause?: unknown;
  }) {
    super(CODE_OF[params.reason], params.message, {
      details: { reason: params.reason, ...params.details },
      cause: params.cause,
    });
    this.reason = params.reason;
  }
}

/** The token is malformed, tampered with, widened, revoked or carries an unknown caveat. */
export class DelegationInvalidError extends DelegationError {
  override name = 'DelegationInvalidError';
}

/** The token has expired. */
export class DelegationExpiredError extends DelegationError {
  override name = 'DelegationExpiredError';
}

/** The payment would exceed a total or per-request cap of the token or of an ancestor. */
export class DelegationExceededError extends DelegationError {
  override name = 'DelegationExceededError';
}

/** The host, method or protocol is outside the token's scope. */
export class DelegationScopeError extends DelegationError {
  override name = 'DelegationScopeError';
}

/** The rail's proof carries a secret (a preimage); remote mode refuses it. */
export class DelegationRailError extends DelegationError {
  override name = 'DelegationRailError';
}

const CLASS_OF: Record<
  DelegationErrorCode,
  new (
    params: ConstructorParameters<typeof DelegationError>[0],
  ) => DelegationError
> = {
  DELEGATION_INVALID: DelegationInvalidError,
  DELEGATION_EXPIRED: DelegationExpiredError,
  DELEGATION_EXCEEDED: DelegationExceededError,
  DELEGATION_OUT_OF_SCOPE: DelegationScopeError,
  DELEGATION_RAIL_REFUSED: DelegationRailError,
};

/**
 * Builds the typed error for a reason (the subclass follows the reason's code).
 *
 * @example
 * ```ts
 * import { delegationError } from '@stipend/authority/remote';
 * throw delegationError('expired', 'The token expired at 2026-01-01T00:00:00Z; ask for a new one.');
 * ```
 */
export function delegationError(
  reason: DelegationReason,
  message: string,
  details?: Record<string, unknown>,
): DelegationError {
  const Class = CLASS_OF[CODE_OF[reason]];
  return new Class({ reason, message, ...(details ? { details } : {}) });
}

/**
 * Rebuilds a typed error from its `toJSON()` form (what the authority sends over HTTP).
 * Returns a plain `StipendError` for codes that are not delegation codes.
 *
 * @example
 * ```ts
 * import { errorFromJSON } from '@stipend/authority/remote';
 * const error = errorFromJSON({ code: 'DELEGATION_EXPIRED', message: 'expired', details: { reason: 'expired' } });
 * ```
 */
export function errorFromJSON(json: unknown): StipendError {
  const body = (typeof json === 'object' && json !== null ? json : {}) as {
    code?: unknown;
    message?: unknown;
    details?: unknown;
  };
  // A remote authority's code is a claim: only a code this package knows is kept as is.
  const code = isStipendErrorCode(body.code) ? body.code : 'AUTHORITY_ERROR';
  const message =
    typeof body.message === 'string' ? body.message : 'The spend authority refused the payment.';
  const details =
    typeof body.details === 'object' && body.details !== null
      ? (body.details as Record<string, unknown>)
      : {};
  const reason = details.reason;
  if (
    code in CLASS_OF &&
    typeof reason === 'string' &&
    reason in CODE_OF &&
    CODE_OF[reason as DelegationReason] === code
  ) {
    return delegationError(reason as DelegationReason, message, details);
  }
  return new StipendError(code, message, {
    details: code === body.code ? details : { ...details, remoteCode: String(body.code ?? '') },
  });
}
