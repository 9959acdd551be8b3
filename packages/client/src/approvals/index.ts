/**
 * Approvals by a person: the pending mode's store and helpers.
 *
 * @module
 */
export {
  type ApprovalState,
  type ApprovalStore,
  createMemoryApprovalStore,
  type PendingApproval,
} from './store.js';
