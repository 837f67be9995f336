/**
 * The skill actions as LangChain tools, and the optional LLM fallback, tested with LangChain's
 * own fake chat models (FakeStreamingChatModel emits the tool call; FakeListChatModel answers
 * without one). Read tools answer from the database; write tools never write.
 */
import { AIMessageChunk } from '@langchain/core/messages';
import { FakeListChatModel, FakeStreamingChatModel } from '@langchain/core/utils/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config/config.js';
import { createSkillRegistry, MasterDataStore, RoleDirectory, type SkillContext } from '../../src/skills/index.js';
import { LlmFallback } from '../../src/skills/llmFallback.js';
import { skillTools } from '../../src/skills/tools.js';
import { allText, ChatUser } from '../helpers/chatUser.js';
import { databaseTargets } from '../helpers/databases.js';
import { rows, useSkillApp } from '../helpers/procurementFixture.js';

const targets = await databaseTargets();
const roles = new RoleDirectory(loadConfig({ USER_ROLES: 'bob=approver' }).roles);
const registry = createSkillRegistry({ settings: { approvalThreshold: 10_000, currency: 'USD' }, roles });

const toolCall = (name: string, args: Record<string, unknown>) =>
  new FakeStreamingChatModel({ chunks: [new AIMessageChunk({ content: '', tool_calls: [{ name, args, id: 'call_1', type: 'tool_call' }] })] });

describe('skill tools', () => {
  it('one structured tool per action, named for OpenAI/LangChain, with the action’s zod schema', () => {
    const tools = skillTools(registry);
    expect(tools.map((t) => t.name).sort()).toEqual([
      'automation_list_jobs',
      'customs_classify_goods',
      'customs_declaration_status',
      'customs_file_declaration',
      'procurement_approve_order',
      'procurement_cancel_order',
      'procurement_create_order',
      'procurement_list_orders',
      'procurement_order_status',
      'procurement_product_price',
      'procurement_reject_order',
      'storage_receive_goods',
      'storage_stock_level',
      'storage_transfer_stock',
    ]);
    for (const t of tools) {
      expect(t.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
      expect(t.description.length).toBeGreaterThan(20);
      const json = z.toJSONSchema(t.schema as z.ZodType) as { type: string; properties: Record<string, unknown> };
      expect(json.type).toBe('object');
    }
    const create = tools.find((t) => t.name === 'procurement_create_order')!;
    const json = z.toJSONSchema(create.schema as z.ZodType) as { required: string[]; properties: Record<string, unknown> };
    expect(json.required).toEqual(['supplier', 'lines']);
    expect(Object.keys(json.properties)).toEqual(['supplier', 'lines', 'shipTo', 'needBy']);
  });

  it('the fallback turns a tool call into an action and the arguments that fit its schema', async () => {
    const fallback = new LlmFallback(
      toolCall('procurement_create_order', { supplier: 'Globex', lines: [{ sku: 'SKU-1003', quantity: 20 }], needBy: 'soon' }),
      registry,
    );
    const proposal = await fallback.propose('could you get twenty boxes of gloves from globex');
    expect(proposal?.action.name).toBe('procurement.create_order');
    // `needBy: "soon"` does not fit the schema (YYYY-MM-DD): dropped, the rest kept.
    expect(proposal?.draft).toEqual({ supplier: 'Globex', lines: [{ sku: 'SKU-1003', quantity: 20 }] });
  });

  it('no tool call, or an unknown tool, proposes nothing', async () => {
    expect(await new LlmFallback(new FakeListChatModel({ responses: ['I can only help with operations.'] }), registry).propose('weather?')).toBeUndefined();
    expect(await new LlmFallback(toolCall('delete_everything', {}), registry).propose('drop it all')).toBeUndefined();
  });
});

describe.each(targets)('LLM fallback and tools on $name', (target) => {
  const chatModel = toolCall('procurement_create_order', { supplier: 'Globex', lines: [{ sku: 'SKU-1003', quantity: 20 }] });
  const fixture = useSkillApp(target, {}, { chatModel });

  const contextFor = (userId: string): SkillContext => ({
    actor: { id: userId, name: userId, roles: roles.rolesOf(userId) },
    origin: { channelId: 'test', conversationId: `tools-${userId}` },
    env: {
      db: fixture.app.db.dataSource,
      jobs: fixture.app.jobs,
      masterData: new MasterDataStore(fixture.app.db.dataSource),
      roles,
      settings: { approvalThreshold: 10_000, currency: 'USD' },
      now: () => new Date(),
    },
  });

  it.skipIf(target.skip)('an out-of-scope message goes through the model’s tool call into the normal dialog, confirmation included', async () => {
    const user = new ChatUser(() => fixture.app.url, fixture.receiver, 'llm-user', 'LLM User');
    const confirm = allText(await user.say('hands are getting dirty, get globex to send 20 boxes of gloves'));
    expect(confirm).toMatch(/Create this purchase order\?/);
    expect(confirm).toMatch(/Supplier: Globex/);
    expect(confirm).toMatch(/SKU-1003: nitrile gloves \(box of 100\) · 20 boxes · \$9\.90 · \$198\.00/);
    expect(allText(await user.click('Confirm'))).toMatch(/^On it: job \d+ is placing the order with Globex/);
    await user.waitForNotification(/✅ PO-\d+ is placed: Globex confirmed it/);
    await fixture.app.traceWriter.flush();
    const [first] = await rows<{ attributes: Record<string, unknown>; stages: Record<string, number> }>(
      fixture.app.db.dataSource,
      `SELECT attributes, stages FROM turn_traces WHERE conversation_id = $1 ORDER BY started_at LIMIT 1`,
      [user.conversationId],
    );
    expect(first?.attributes.llm_fallback).toBe('procurement.create_order');
    expect(first?.stages).toHaveProperty('llm');
  });

  it.skipIf(target.skip)('read tools answer from the database; write tools only describe what would need confirming', async () => {
    const tools = skillTools(registry);
    const status = tools.find((x) => x.name === 'procurement_order_status')!;
    expect(await status.invoke({ order: 'PO-1002' }, { configurable: { skillContext: contextFor('tool-user') } })).toMatch(
      /^PO-1002 with Globex is confirmed/,
    );
    expect(await status.invoke({ order: 'PO-99999' }, { configurable: { skillContext: contextFor('tool-user') } })).toMatch(
      /^I can't find PO-99999\./,
    );
    const create = tools.find((x) => x.name === 'procurement_create_order')!;
    const answer = await create.invoke(
      { supplier: 'Acme Corp', lines: [{ sku: 'SKU-1001', quantity: 5 }] },
      { configurable: { skillContext: contextFor('tool-user') } },
    );
    expect(answer).toMatch(/^Not done yet — this needs the user's confirmation first:\nPlease confirm this purchase order with Acme Corp:/);
    const approve = tools.find((x) => x.name === 'procurement_approve_order')!;
    expect(await approve.invoke({ order: 'PO-1004' }, { configurable: { skillContext: contextFor('tool-user') } })).toMatch(
      /^You can't approve purchase orders: that needs the approver role/,
    );
    expect(await rows(fixture.app.db.dataSource, `SELECT 1 FROM automation_jobs WHERE requested_by = 'tool-user'`)).toEqual([]);
  });
});
