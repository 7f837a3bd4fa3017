/** The audit log's public surface: everything else in this folder is its implementation. */
export { openAuditLog, type AuditLog, type AuditLogOptions } from './audit-log.js';
export { AUDIT_EVENT_TYPES, isAuditEventType, summarizePolicy } from './events.js';
export type { AuditEventInput, AuditEventType, AuditRow, ClientData, DenialData, ExitData, KillData, LossData, PolicySummary, PruneData, RecoveryData, RestartData, SpawnData } from './events.js';
export type { VerifyResult } from './hash-chain.js';
export type { PruneResult } from './retention.js';
export type { AuditQuery } from './store.js';
export { redactEnv } from './redaction.js';
