export * from './types.js';
export { NluPipeline, loadNlu, DEFAULT_THRESHOLDS, type LoadNluOptions, type RecognizeBatchOptions } from './NluPipeline.js';
export { IntentClassifier, softmax, type IntentDecision } from './intents/IntentClassifier.js';
export { EntityExtractor, type EntityExtractorOptions } from './entities/EntityExtractor.js';
export type { MasterData, Supplier, Product, Warehouse } from './entities/masterData.js';
export { DEMO_MASTER_DATA } from './entities/demoMasterData.js';
export { evaluate, formatReport, type EvalReport, type IntentMetrics } from './evaluation.js';
