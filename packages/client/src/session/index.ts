/**
 * MPP sessions in the core (pay once, call many times): the record, its store and the
 * method plug-in contract. The methods themselves (`lightningSessionMethod`,
 * `tempoSessionMethod`) come with the MPP entry.
 *
 * @module
 */
export { createMemorySessionStore } from './memory.js';
export {
  type CloseRequest,
  type DepositPlan,
  LIVE_SESSION_STATES,
  type OpenContext,
  type OpenResult,
  publicSession,
  type RefundCheck,
  type SessionDisagreement,
  type SessionFilter,
  type SessionHold,
  type SessionInfo,
  type SessionMethod,
  type SessionOffer,
  type SessionPutConflict,
  type SessionReceipt,
  type SessionRecord,
  type SessionRefusal,
  type SessionState,
  type SessionStore,
  type SessionsApi,
  type SessionsConfig,
  type StreamSignal,
  scopeKey,
  type TopUpAnswer,
  type TopUpContext,
  type TopUpResult,
} from './types.js';
