import { automationSkill } from './automation/index.js';
import { customsSkill } from './customs/index.js';
import { procurementSkill } from './procurement/index.js';
import { SkillRegistry } from './registry.js';
import { storageSkill } from './storage/index.js';
import type { RoleDirectory } from './roles.js';
import type { SkillSettings } from './types.js';

export { SkillRegistry, toolNameOf } from './registry.js';
export { RoleDirectory } from './roles.js';
export { MasterDataStore, loadMasterRecords, toNluMasterData } from './data/masterData.js';
export { seedDemoData } from './data/seed.js';
export * from './types.js';

/**
 * Every skill the assistant has. Adding one (customs, storage) = a new folder exporting a `Skill`
 * and a line here; the bot, the dialogs, the jobs and the LangChain tools pick it up.
 */
export function createSkillRegistry(deps: {
  settings: SkillSettings;
  roles: RoleDirectory;
}): SkillRegistry {
  return new SkillRegistry([procurementSkill(deps), customsSkill(), storageSkill(), automationSkill()]);
}
