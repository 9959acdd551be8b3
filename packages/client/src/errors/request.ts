import { StipendError } from './base.js';

/**
 * The request cannot be paid for safely as it stands (plain `http:` to a non-loopback
 * origin, a body too large to replay, a redirect away from the paying origin).
 *
 * @example
 * ```ts
 * import { RequestError } from '@stipend/client';
 * if (err instanceof RequestError && err.code === 'BODY_TOO_LARGE') console.warn(err.shortMessage);
 * ```
 */
export class RequestError extends StipendError {
  override name = 'RequestError';
  constructor(
    code:
      | 'INSECURE_TRANSPORT'
      | 'BODY_TOO_LARGE'
      | 'REDIRECT_NOT_FOLLOWED'
      | 'REDIRECTED_CHALLENGE'
      | 'INVALID_REQUEST',
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details ? { details } : {});
  }
}
