export { isStipendError, StipendError, type StipendErrorParameters } from './base.js';
export { ChallengeParseError } from './challenge.js';
export type { StipendErrorCode } from './codes.js';
export { PaymentFailedError, type ResumeInfo } from './payment.js';
export { ApprovalError, type DenyCode, type OfferDenial, PolicyDeniedError } from './policy.js';
export { RequestError } from './request.js';
export { WalletError } from './wallet.js';
