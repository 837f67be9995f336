import type { Skill } from '../types.js';
import { classifyGoodsAction } from './actions/classifyGoods.js';
import { declarationStatusAction } from './actions/declarationStatus.js';
import { fileDeclarationAction } from './actions/fileDeclaration.js';
import { customsJobHandlers } from './jobs.js';

/** Customs: file declarations for shipments, follow them through customs, classify goods (HS codes, duty). */
export function customsSkill(): Skill {
  return {
    name: 'customs',
    intents: {
      'customs.file_declaration': 'customs.file_declaration',
      'customs.declaration_status': 'customs.declaration_status',
      'customs.classify_goods': 'customs.classify_goods',
    },
    actions: [fileDeclarationAction(), declarationStatusAction(), classifyGoodsAction()],
    jobHandlers: customsJobHandlers(),
  };
}
