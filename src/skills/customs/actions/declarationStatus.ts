import { listEvents, listJobs } from '../../../jobs/store.js';
import type { JobRecord } from '../../../jobs/types.js';
import type { CheckResult, ReadAction, SkillContext, SkillReply } from '../../types.js';
import { activeShipments, declarationsOf, findDeclaration, findShipment, findShipmentById, type Declaration } from '../declarations.js';
import { extractDeclarationStatus } from '../extract.js';
import { isDomestic } from '../filing.js';
import { matchShipments } from '../matching.js';
import { declarationNotFound, declarationStatusReply, listingOf, noDeclarationReply, shipmentChoice, shipmentNotFound } from '../replies.js';
import { declarationStatusSchema, type DeclarationStatusSlots } from '../schemas.js';

/** The latest job about a declaration, with its latest event (for "Latest automation: …"). */
async function latestJob(ctx: SkillContext, d: Declaration): Promise<{ job: JobRecord; last?: string } | undefined> {
  const [job] = await listJobs(ctx.env.db, { subject: { type: 'customs_declaration', id: d.number }, limit: 1 });
  if (!job) return undefined;
  const last = (await listEvents(ctx.env.db, job.id)).filter((e) => e.kind !== 'notified' && e.kind !== 'not_notified').pop();
  return { job, last: last?.message };
}

export function declarationStatusAction(): ReadAction<DeclarationStatusSlots> {
  return {
    kind: 'read',
    name: 'customs.declaration_status',
    description:
      'Tell where a customs declaration stands (draft, submitted, under review, cleared, held, rejected), by declaration (CD-…), by shipment (SH-…) or by a description such as "the Shenzhen container".',
    schema: declarationStatusSchema,
    help: 'Tell me the declaration (e.g. CD-3001), the shipment (e.g. SH-2003) or describe the shipment ("the Shenzhen container").',
    extract: extractDeclarationStatus,
    async check(draft, ctx): Promise<CheckResult<DeclarationStatusSlots>> {
      const question = draft.question === 'cleared' ? 'cleared' : undefined;
      if (typeof draft.declaration === 'string') {
        const d = await findDeclaration(ctx.env.db, draft.declaration);
        if (!d) return { status: 'refuse', reply: declarationNotFound(draft.declaration) };
        return { status: 'ready', slots: { declaration: d.number, question } };
      }
      if (typeof draft.shipment === 'string') {
        const s = await findShipment(ctx.env.db, draft.shipment);
        if (!s) return { status: 'refuse', reply: shipmentNotFound(draft.shipment) };
        return { status: 'ready', slots: { shipment: s.number, question } };
      }
      const shipments = await activeShipments(ctx.env.db);
      if (typeof draft.description === 'string') {
        const match = matchShipments(shipments, draft.description);
        if (match.status === 'one') return { status: 'ready', slots: { shipment: match.shipment.number, description: draft.description, question } };
        if (match.status === 'many') {
          return {
            status: 'ask',
            slot: 'shipment',
            text: `Which one do you mean: ${match.shipments.map(shipmentChoice).join(', or ')}?`,
            choices: match.shipments.map((s) => s.number),
          };
        }
      }
      const recent = shipments.slice(0, 5);
      const lead = typeof draft.description === 'string' ? "I couldn't tell which shipment you mean." : 'Which shipment or declaration?';
      return {
        status: 'ask',
        slot: 'shipment',
        text: `${lead} Give a shipment (e.g. SH-2003) or a declaration (e.g. CD-3001)${recent.length ? `; shipments under way: ${listingOf(recent)}` : ''}.`,
        choices: recent.map((s) => s.number),
      };
    },
    async answer(slots, ctx): Promise<SkillReply> {
      const now = ctx.env.now();
      if (slots.declaration) {
        const d = await findDeclaration(ctx.env.db, slots.declaration);
        if (!d) return declarationNotFound(slots.declaration);
        return declarationStatusReply(d, await findShipmentById(ctx.env.db, d.shipmentId), await latestJob(ctx, d), slots.question, now);
      }
      const s = slots.shipment ? await findShipment(ctx.env.db, slots.shipment) : undefined;
      if (!s) return shipmentNotFound(slots.shipment ?? 'that shipment');
      const [latest] = await declarationsOf(ctx.env.db, s.id);
      if (!latest) return noDeclarationReply(s, isDomestic(s), slots.question);
      return declarationStatusReply(latest, s, await latestJob(ctx, latest), slots.question, now);
    },
  };
}
