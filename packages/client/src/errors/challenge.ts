import { StipendError } from './base.js';

/**
 * A 402 carried a payment challenge that could not be read safely. Nothing is paid from it.
 *
 * @example
 * ```ts
 * import { ChallengeParseError } from '@stipend/client';
 * if (err instanceof ChallengeParseError) console.warn(err.protocol, err.shortMessage);
 * ```
 */
export class ChallengeParseError extends StipendError {
  override name = 'ChallengeParseError';
  readonly protocol: string;
  constructor(params: {
    protocol: string;
    message: string;
    header?: string;
    cause?: unknown;
    /** `CHALLENGE_INVALID` (default) or `CHALLENGE_HIDDEN` (CORS hid the terms). */
    code?: 'CHALLENGE_INVALID' | 'CHALLENGE_HIDDEN';
  }) {
    super(params.code ?? 'CHALLENGE_INVALID', params.message, {
      details: { protocol: params.protocol, header: params.header },
      cause: params.cause,
    });
    this.protocol = params.protocol;
  }
}
