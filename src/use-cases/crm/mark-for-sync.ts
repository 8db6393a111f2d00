// The reaction to "a registration changed" (one job per outbox row): for every active CRM connection
// of the workspace, note the version the CRM should reflect and make sure that connection's push job
// is queued. Connecting a CRM seeds links for the registrations that already belong there
// (seedLinks). Creates a CRM record only for registrations the mapping says belong in the CRM; once a
// record exists, every later change (extension, expiry, won, withdrawn) updates it.
import { syncingConnections } from '../../data/repositories/connections';
import { markForSync } from '../../data/repositories/crm-links';
import type { RegistrationEventReaction } from '../../jobs/workers/registration-events.worker';
import type { CrmServices } from '../../crm/crm-services';
import { mappingInForce } from './mappings';

export function crmSyncReaction(s: CrmServices): RegistrationEventReaction {
  return {
    name: 'crm-sync',
    async handle(ctx, event) {
      if (!event.registrationId) return;
      // Parked connections too: their links wait, and go out once someone reconnects.
      const connections = await syncingConnections(ctx.prisma, event.workspaceId);
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
      for (const c of connections) if (c.status === 'active' && rows.some((r) => r.connectionId === c.id)) await s.jobs.push(c.id);
    },
  };
}

/**
 * On connect (and reconnect): every registration that belongs in the CRM but has no link for this
 * connection gets one, so registrations approved before the CRM was connected, or while it was parked,
 * are pushed too. One statement.
 */
export async function seedLinks(s: CrmServices, connectionId: string): Promise<number> {
  const c = await s.ctx.prisma.crmConnection.findUniqueOrThrow({ where: { id: connectionId }, select: { workspaceId: true, crm: true } });
  const { mapping } = await mappingInForce(s, s.ctx.prisma, c.workspaceId, c.crm as 'hubspot');
  const statuses = mapping.createWhen === 'submitted' ? ['approved', 'pending_review'] : ['approved'];
  return s.ctx.prisma.$executeRawUnsafe(
    `INSERT INTO crm_links (connection_id, registration_id, workspace_id, crm, wanted_version, updated_at)
     SELECT $1::uuid, r.id, r.workspace_id, $2, r.version, now() FROM registrations r
     WHERE r.workspace_id = $3::uuid AND r.status::text = ANY($4::text[])
     ON CONFLICT (connection_id, registration_id) DO NOTHING`,
    connectionId,
    c.crm,
    c.workspaceId,
    statuses,
  );
}
