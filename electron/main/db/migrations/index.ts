import type { Migration } from '../migrate';
import { migration as chainLog } from './0001-chain-log';
import { migration as identityDatasets } from './0002-identity-datasets';
import { migration as access } from './0003-access';
import { migration as settlement } from './0004-settlement';

/** Every schema step, in order: append new ones, never edit or reorder applied ones. */
export const MIGRATIONS: readonly Migration[] = [chainLog, identityDatasets, access, settlement];

/** The schema version this code writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;
