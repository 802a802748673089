/**
 * Human approval of held calls: MCP elicitation to the connected client, or a
 * persisted out-of-band queue (CLI, HTTP admin API, webhook). See docs/approvals.md.
 */
export { ApprovalsBroker, approvalDesk, checkApprover, supportsFormElicitation, withRisk, type ApprovalsBrokerOptions } from './broker.js';
export { ApprovalStore, argumentsHash, isApprovalId, newApprovalId, statusOf, APPROVALS_DIR } from './store.js';
export { approvalsConfigSchema, checkApprovalsConfig, APPROVAL_MODES, type ApprovalMode, type ApprovalsConfig } from './config.js';
export { ApproverAuthenticator, issueApproverToken, approverAudience, APPROVER_ROLE, type ApproverAuthResult, type IssueApproverTokenOptions } from './credentials.js';
export { createAdminHandler, type AdminHandler } from './admin-http.js';
export { approvalForm, readElicitation, describeRisk, describeTrigger } from './elicitation.js';
export { deliverWebhook, webhookPayload, type WebhookPayload } from './webhook.js';
export * from './types.js';
