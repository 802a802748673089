/**
 * Portcullis as a library: run the gateway in-process and bind SDK clients to
 * identities, or compose your own guard chain.
 *
 *   const gateway = await Gateway.start({ config: defineConfig({ servers: { crm: { command: 'node', args: ['crm.js'] } } }).config, dataDir });
 *   const agent = new Identity({ name: 'support-agent-v1', allowedTools: ['crm.read_crm_ticket'] });
 *   await client.connect(await gateway.connect(agent));
 */
export { Gateway, type GatewayOptions } from './gateway/gateway.js';
export type { ApprovalBroker, ApprovalRequest, ApprovalAnswer, ApprovalRefusal, HeldCall, QuarantineRequest, ReleaseRequest, ReleaseAnswer } from './gateway/core.js';
export { ApprovalsBroker, approvalDesk, withRisk, issueApproverToken, ApprovalError, APPROVAL_META_KEY, RELEASE_META_KEY } from './approvals/index.js';
export type { ApprovalDesk, ApprovalView, Approver, RiskAssessment, RiskAssessor, ApprovalTrigger, ApprovalBinding } from './approvals/index.js';
export type { Session, SessionPrincipal } from './gateway/session.js';
export { Identity, type IdentityOptions, type Access } from './policy/identity.js';
export { defineConfig, parseConfig, loadConfigFile, ConfigError, type LoadedConfig, type ConfigProblem } from './config/load.js';
export { configSchema, type Config, type ConfigInput } from './config/schema.js';
export { configJsonSchema } from './config/json-schema.js';
export { Pipeline } from './pipeline/pipeline.js';
export { allow, deny, hold, type Guard, type GuardEntry, type Decision, type Invocation, type Listed, type RequestContext, type SampleFunction, type InvokeDecision, type ResultDecision, type UpstreamError } from './pipeline/types.js';
export { ReasonCodes, type ReasonCode } from './pipeline/codes.js';
export { defaultGuards, sessionExpiry, authorisation, argumentValidation, approval, rateLimit, flowControl, outputSchema, outputScreening } from './guards/index.js';
export type { OutputScreeningOptions, ScreeningConfig, ScreeningOverride, FlaggedAction, JudgeConfig, JudgeErrorAction } from './guards/output-screening/index.js';
export { createJudge, openAiBackend, samplingBackend, type Judge, type JudgeBackend, type JudgeOutcome } from './screening/judge/index.js';
export { MemoryRateLimitStore, type RateLimitStore, type BucketSpec, type TakeResult } from './guards/rate-limit/index.js';
export type { FlowConfig, FlowRuleConfig } from './guards/flow-control/index.js';
export type { RateLimitsOptions, RateLimitOptions } from './policy/rate-limits.js';
export { RiskModel, rateTool, collectInventory, buildInventory, renderInventory, type ToolRating, type Inventory, type RiskFormat } from './risk/index.js';
export { AuditLog, verifyAuditLog, redactSecretFields, type AuditEvent, type AuditRecord, type AuditStore } from './audit/index.js';
export { issueToken, loadOrCreateSigningKey, LocalJwtAuthenticator, AnonymousLoopbackAuthenticator, chainAuthenticators, type Authenticator } from './auth/index.js';
export { startHttpGateway } from './serve/http.js';
export { SandboxManager, BubblewrapBackend, NoSandbox, measureSandboxOverhead, type SandboxBackend } from './sandbox/index.js';
