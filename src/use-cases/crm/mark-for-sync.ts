// The reaction to "a registration changed" (one job per outbox row): for every active CRM connection
// of the workspace, note the version the CRM should reflect and make sure that connection's push job
// is queued. Creates a CRM record only for registrations the mapping says belong in the CRM; once a
// record exists, every later change (extension, expiry, won, withdrawn) updates it.
import { activeConnections } from '../../data/repositories/connections';
import { markForSync } from '../../data/repositories/crm-links';
import type { RegistrationEventReaction } from '../../jobs/workers/registration-events.worker';
import type { CrmServices } from '../../crm/crm-services';
import { mappingInForce } from './mappings';

export function crmSyncReaction(s: CrmServices): RegistrationEventReaction {
  return {
    name: 'crm-sync',
    async handle(ctx, event) {
      if (!event.registrationId) return;
      const connections = await activeConnections(ctx.prisma, { workspaceId: event.workspaceId });
      if (connections.length === 0) return;
      const reg = await ctx.prisma.registration.findFirst({ where: { id: event.registrationId, workspaceId: event.workspaceId }, select: { id: true, status: true, version: true } });
      if (!reg) return;
      const linked = new Set((await ctx.prisma.crmLink.findMany({ where: { registrationId: reg.id }, select: { connectionId: true } })).map((l) => l.connectionId));
      const rows = [];
      for (const c of connections) {
        const { mapping } = await mappingInForce(s, ctx.prisma, c.workspaceId, c.crm);
        const belongs = reg.status === 'approved' || (mapping.createWhen === 'submitted' && reg.status === 'pending_review');
        if (linked.has(c.id) || belongs) rows.push({ connectionId: c.id, registrationId: reg.id, workspaceId: c.workspaceId, crm: c.crm, version: reg.version });
      }
      if (rows.length === 0) return;
      await markForSync(ctx.prisma, rows);
      for (const r of rows) await s.jobs.push(r.connectionId);
    },
  };
}
