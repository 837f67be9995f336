import { describeRoles } from '../../roles.js';
import type { CheckResult, Draft, SkillContext, WriteAction } from '../../types.js';
import {
  IN_PROGRESS,
  activeShipments,
  declarationsOf,
  findShipment,
  insertDeclaration,
  latestDeclarations,
  nextDeclarationNumber,
  type Declaration,
  type Shipment,
} from '../declarations.js';
import { extractFileDeclaration } from '../extract.js';
import { NO_CODE, buildFiling, isDomestic, linesMissingCode, type HsCodes } from '../filing.js';
import { DECISION_JOB, FILE_JOB } from '../jobs.js';
import { decisionKey, filingKey, transitionDeclaration } from '../lifecycle.js';
import { matchShipments } from '../matching.js';
import { confirmationText, filingCard, listingOf, shipmentChoice, shipmentLabel, shipmentNotFound } from '../replies.js';
import { fileDeclarationSchema, type FileDeclarationSlots } from '../schemas.js';
import { classify, formatHs } from '../tariff.js';
import { quantity, statusLabel } from '../../format.js';
import { requestedInTurn } from '../../turnJob.js';

/** Who may file: customs brokers, and admins. Anyone may ask a status or an HS code. */
export const FILING_ROLES = ['broker', 'admin'] as const;

/** Why this shipment can't get a (new) declaration, or undefined when it can. */
function filingBlock(s: Shipment, latest: Declaration | undefined): string | undefined {
  if (s.status === 'cancelled') return `${s.number} was cancelled, so there is nothing to declare.`;
  if (s.status === 'delivered') return `${s.number} was already delivered and received.`;
  if (isDomestic(s)) return `${shipmentLabel(s)} stays within one country: it needs no customs declaration.`;
  if (s.lines.length === 0) return `${s.number} has no lines, so there is nothing to declare yet.`;
  if (latest && IN_PROGRESS.includes(latest.status)) {
    return `${s.number} already has declaration ${latest.number}, which is ${statusLabel(latest.status)}. Ask "status of ${latest.number}" to follow it.`;
  }
  if (latest?.status === 'cleared') return `${s.number} already cleared customs under ${latest.number}.`;
  return undefined;
}

/** " It was filed by Frank at 10:42 UTC." — for whoever confirmed the same filing a moment later. */
function filedByText(d: Declaration): string {
  if (!d.filedBy) return '';
  const at = (d.filedAt ?? d.createdAt).toISOString().slice(11, 16);
  return ` It was filed by ${d.filedByName ?? d.filedBy} at ${at} UTC.`;
}

/** Shipments that could get a declaration now (for "which one?"). */
async function fileable(ctx: SkillContext): Promise<Shipment[]> {
  const shipments = (await activeShipments(ctx.env.db)).filter((s) => !isDomestic(s) && s.lines.length > 0);
  const latest = await latestDeclarations(ctx.env.db, shipments.map((s) => s.id));
  return shipments
    .filter((s) => {
      const d = latest.get(s.id);
      return !d || d.status === 'held' || d.status === 'rejected';
    })
    .reverse();
}

async function askShipment(ctx: SkillContext, lead: string): Promise<CheckResult<FileDeclarationSlots>> {
  const open = (await fileable(ctx)).slice(0, 5);
  const which = open.length
    ? ` Shipments waiting for one: ${listingOf(open)}.`
    : ' Every shipment I know already has a declaration.';
  return { status: 'ask', slot: 'shipment', text: `${lead}${which}`, choices: open.map((s) => s.number) };
}

/** Asks for the HS code of the first line that has none, suggesting the tariff table's match. */
function askHsCode(s: Shipment, draft: Draft, codes: HsCodes): CheckResult<FileDeclarationSlots> | undefined {
  const line = linesMissingCode(s, codes)[0];
  if (!line) return undefined;
  const what = `${quantity(line.quantity, line.unit)} of ${line.productName} (${line.sku})`;
  const how = `Give 6 to 10 digits (e.g. 8504.40), or say "skip" to file without it — customs will then hold the declaration.`;
  if (typeof draft.hsInvalid === 'string') {
    return { status: 'ask', slot: `hs:${line.sku}`, text: `"${draft.hsInvalid}" isn't an HS code. What is the HS code of ${what}? ${how}` };
  }
  const declined = Array.isArray(draft.hsDeclined) && draft.hsDeclined.includes(line.sku);
  const guess = classify(line.productName);
  if (!declined && guess.status === 'confident') {
    const e = guess.best.entry;
    return {
      status: 'ask',
      slot: `hs:${line.sku}`,
      text: `Line ${line.lineNo} of ${s.number}, ${what}, has no HS code in the product master. The tariff table suggests ${formatHs(e.hs)} — ${e.description}. Use ${formatHs(e.hs)}?`,
      suggestion: {
        label: formatHs(e.hs),
        patch: { hsCodes: { ...codes, [line.sku]: e.hs } },
        onReject: { hsDeclined: [...(Array.isArray(draft.hsDeclined) ? draft.hsDeclined : []), line.sku] },
      },
      choices: ['yes', 'no', 'skip'],
    };
  }
  return {
    status: 'ask',
    slot: `hs:${line.sku}`,
    text: `${declined ? 'Then what' : `Line ${line.lineNo} of ${s.number}, ${what}, has no HS code in the product master. What`} is its HS code? ${how}`,
  };
}

export function fileDeclarationAction(): WriteAction<FileDeclarationSlots> {
  return {
    kind: 'write',
    name: 'customs.file_declaration',
    description:
      'File an import/export customs declaration for a shipment (SH-…) from its lines (goods, HS code, origin, value, quantity) and submit it to customs; asks for missing HS codes.',
    schema: fileDeclarationSchema,
    help: 'To file a customs declaration I need the shipment: its number (e.g. SH-2003) or a description ("the Shenzhen container"). I build the lines from the shipment and ask for any HS code the product master lacks. Say "cancel" to stop.',
    extract: extractFileDeclaration,
    async check(draft, ctx): Promise<CheckResult<FileDeclarationSlots>> {
      const mine = ctx.actor.roles;
      if (!FILING_ROLES.some((r) => mine.includes(r))) {
        return {
          status: 'refuse',
          reply: {
            text: `Filing customs declarations needs the broker or admin role (yours: ${describeRoles(mine)}). Anyone can ask a declaration's status ("has SH-2003 cleared?") or an HS code ("HS code for nitrile gloves").`,
          },
        };
      }
      let shipment: Shipment | undefined;
      if (typeof draft.shipment === 'string') {
        shipment = await findShipment(ctx.env.db, draft.shipment);
        if (!shipment) return { status: 'refuse', reply: shipmentNotFound(draft.shipment) };
      } else if (typeof draft.shipmentHint === 'string') {
        const match = matchShipments(await activeShipments(ctx.env.db), draft.shipmentHint);
        if (match.status === 'one') shipment = match.shipment;
        else if (match.status === 'many') {
          return {
            status: 'ask',
            slot: 'shipment',
            text: `Which one do you mean: ${match.shipments.map(shipmentChoice).join(', or ')}?`,
            choices: match.shipments.map((s) => s.number),
          };
        } else return askShipment(ctx, `I couldn't tell which shipment you mean. Which shipment should I declare?`);
      } else return askShipment(ctx, 'Which shipment should I declare? Give its number (e.g. SH-2003) or describe it.');

      const [latest] = await declarationsOf(ctx.env.db, shipment.id);
      const blocked = filingBlock(shipment, latest);
      if (blocked) return { status: 'refuse', reply: { text: blocked } };
      const codes = { ...((draft.hsCodes as HsCodes | undefined) ?? {}) };
      const ask = askHsCode(shipment, draft, codes);
      if (ask) return ask;
      const known = new Set(shipment.lines.map((l) => l.sku));
      const hsCodes = Object.fromEntries(Object.entries(codes).filter(([sku, code]) => known.has(sku) && (code === NO_CODE || /^\d{6,10}$/.test(code))));
      return { status: 'ready', slots: fileDeclarationSchema.parse({ shipment: shipment.number, hsCodes: Object.keys(hsCodes).length ? hsCodes : undefined }) };
    },
    async confirm(slots, ctx) {
      const shipment = await findShipment(ctx.env.db, slots.shipment);
      if (!shipment) throw new Error(`shipment ${slots.shipment} disappeared`);
      const filing = buildFiling(shipment, slots.hsCodes);
      const [latest] = await declarationsOf(ctx.env.db, shipment.id);
      const replaces = latest?.status === 'held' ? latest : undefined;
      return { text: confirmationText(filing, replaces), card: filingCard(filing, ctx.actor.name ?? ctx.actor.id, replaces) };
    },
    async submit(slots, ctx, tx) {
      // Re-checked under the shipment's lock: a filing from another conversation may have won.
      const shipment = await findShipment(tx, slots.shipment, { lock: true });
      if (!shipment) return { reply: shipmentNotFound(slots.shipment) };
      const [latest] = await declarationsOf(tx, shipment.id);
      const blocked = filingBlock(shipment, latest);
      // A concurrent filing for the same shipment (another conversation, another broker) got here first.
      if (blocked) return { reply: { text: `Nothing filed: ${blocked}${latest ? filedByText(latest) : ''}` } };
      const filing = buildFiling(shipment, slots.hsCodes);
      const number = await nextDeclarationNumber(tx);
      const replaced = latest?.status === 'held' ? latest : undefined;
      if (replaced) {
        const withdrawn = await transitionDeclaration(tx, replaced, 'replace', { reason: `replaced by ${number}` });
        if (!withdrawn.ok) throw new Error(`${replaced.number} could not be replaced: ${withdrawn.reason}`);
      }
      await insertDeclaration(tx, {
        number,
        shipmentId: shipment.id,
        kind: filing.kind,
        currency: filing.currency,
        customsValue: filing.customsValue,
        dutyEstimate: filing.dutyEstimate,
        filedBy: ctx.actor.id,
        filedByName: ctx.actor.name ?? null,
        lines: filing.lines.map((l) => ({
          sku: l.sku,
          description: l.description,
          hsCode: l.hsCode,
          originCountry: l.originCountry,
          quantity: l.quantity,
          unit: l.unit,
          value: l.value,
          dutyRate: l.dutyRate,
        })),
      });
      const subject = { type: 'customs_declaration', id: number };
      const base = {
        skill: 'customs',
        input: { declaration: number, shipment: shipment.number },
        ...requestedInTurn(ctx),
        subject,
      };
      // Keys of the business operation, not of the request: one submission and one wait per declaration,
      // and the broker sees the same Idempotency-Key on every retry.
      const { jobId } = await ctx.env.jobs.enqueue(tx, { ...base, action: FILE_JOB, idempotencyKey: filingKey(number) });
      const decision = await ctx.env.jobs.enqueue(tx, { ...base, action: DECISION_JOB, idempotencyKey: decisionKey(number) });

      return {
        reply: {
          text: `📝 ${number} is drafted for ${shipment.number}; submitting it to customs now (job ${jobId}; job ${decision.jobId} waits for their decision).${replaced ? ` It replaces ${replaced.number}, which I withdrew.` : ''} I'll tell you when customs acknowledges it and when they decide.`,
        },
        jobId,
        subject,
      };
    },
  };
}
