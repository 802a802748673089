/**
 * Tamper-evident, append-only audit log: every gateway event becomes one
 * hash-chained JSON line; verifyAuditLog finds the first record that was
 * changed, removed, inserted or reordered.
 */
export type { AuditEvent, AuditRecord, AuditStore, AuditVerifyResult, AuditDurability, AuditLogOptions } from './types.js';
export { AuditLog, AUDIT_FILE_NAME } from './log.js';
export { FileAuditStore } from './file-store.js';
export { verifyAuditLog } from './verify.js';
export { redactSecretFields, isSecretKey, REDACTED, TRUNCATED, CIRCULAR, MAX_REDACT_DEPTH } from './redact.js';
export { computeRecordHash, GENESIS_HASH, FORMAT_VERSION } from './record.js';
