import type { MigrationInterface } from 'typeorm';
import { InitialSchema1795963900000 } from './1795963900000-InitialSchema.js';
import { SystemOfRecord1796000000000 } from './1796000000000-SystemOfRecord.js';
import { SlackEvents1796170000000 } from './1796170000000-SlackEvents.js';
import { ApproverName1796180000000 } from './1796180000000-ApproverName.js';
import { Customs1796300000000 } from './1796300000000-Customs.js';
import { Storage1796400000000 } from './1796400000000-Storage.js';
import { Excel1796500000000 } from './1796500000000-Excel.js';
import { Teams1796600000000 } from './1796600000000-Teams.js';
import { OrderStateMachine1797000000000 } from './1797000000000-OrderStateMachine.js';
import { StockTransferLifecycle1797100000000 } from './1797100000000-StockTransferLifecycle.js';
import { CardNonces1797250000000 } from './1797250000000-CardNonces.js';
import { JobLeases1797300000000 } from './1797300000000-JobLeases.js';
import { TracePartitions1797600000000 } from './1797600000000-TracePartitions.js';
import { TraceRollups1797700000000 } from './1797700000000-TraceRollups.js';
import { WebchatDirectLine1797750000000 } from './1797750000000-WebchatDirectLine.js';

/**
 * Every migration, oldest first. Listed explicitly (no glob loading) so the set is the same under
 * tsx, a bundler or compiled output. Add new migrations at the end; never edit an applied one.
 */
export const migrations: Array<new () => MigrationInterface> = [
  InitialSchema1795963900000,
  SystemOfRecord1796000000000,
  SlackEvents1796170000000,
  ApproverName1796180000000,
  Customs1796300000000,
  Storage1796400000000,
  Excel1796500000000,
  Teams1796600000000,
  OrderStateMachine1797000000000,
  StockTransferLifecycle1797100000000,
  CardNonces1797250000000,
  JobLeases1797300000000,
  TracePartitions1797600000000,
  TraceRollups1797700000000,
  WebchatDirectLine1797750000000,
];
