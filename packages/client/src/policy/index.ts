/**
 * The spend policy: rules, validation, resolution, offer checks and the policy engine.
 *
 * @module
 */
export { type ApprovalOutcome, askApprover } from './approval.js';
export type { OfferEvaluation } from './checks.js';
export {
  createPolicyEngine,
  type Decision,
  type DecisionContext,
  type EvaluationContext,
  type PolicyEngine,
  type PolicyEngineConfig,
} from './engine.js';
export {
  matchHost,
  matchNormalizedHost,
  normalizeHostname,
  normalizeHostPattern,
} from './hosts.js';
export {
  checkLists,
  type FromRule,
  type ListVerdict,
  type MatchedRule,
  OVERRIDE_LABEL,
  type ResolvedList,
  type ResolvedRules,
  type ResolveInput,
  resolveCompiled,
  resolveRules,
} from './resolve.js';
export {
  type ApprovalRequest,
  type Approver,
  DEFAULT_POLICY,
  type ListRule,
  type NativeCap,
  type Rule,
  type SpendPolicy,
  type Usd,
  type WindowSpec,
} from './types.js';
export {
  type CompiledList,
  type CompiledPolicy,
  type CompiledRule,
  compilePolicy,
  compileRule,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  DEFAULT_MAX_AUTHORIZATION_TTL_SEC,
  DEFAULT_MAX_RATE_AGE_MS,
  type RulePlace,
  type RuleSource,
  validatePolicy,
} from './validate.js';
