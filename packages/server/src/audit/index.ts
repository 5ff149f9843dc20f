import type { TasdiqModule } from '../platform/module.ts';
import { auditMigrations } from './migrations.ts';

export { recordAudit, listAuditEvents, presentAuditEvent, type AuditInput, type AuditEvent, type AuditQuery } from './audit.ts';
export type { ActorType, AuditEventRow } from './schema.ts';

/**
 * The audit log. Its read API (`GET /api/v1/audit`) needs operator sessions and is served by
 * the enrollment module, which owns operator authentication.
 */
export const auditModule: TasdiqModule = {
  name: 'audit',
  migrations: auditMigrations,
};
