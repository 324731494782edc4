import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { settingsSchema, type Settings } from '../../../shared/ipc/custodian';
import type { ChannelResponse } from '../../../shared/ipc/contract';
import { AppError } from '../../../shared/ipc/errors';
import type { CoreConfig } from '../config/core-config';

/** What works without a network: the file picker's view of this machine, the bundled cohorts, settings. */

const MAX_ENTRIES = 2000;

export async function listFiles(dir: string | undefined): Promise<ChannelResponse<'files.list'>> {
  const target = dir ?? os.homedir();
  if (!path.isAbsolute(target)) throw new AppError('BAD_REQUEST', 'The folder must be an absolute path');
  const resolved = path.resolve(target);
  const info = await stat(resolved).catch(() => null);
  if (!info?.isDirectory()) throw new AppError('NOT_FOUND', `${resolved} is not a folder`);
  const names = await readdir(resolved, { withFileTypes: true }).catch(() => {
    throw new AppError('FORBIDDEN', `${resolved} cannot be read`);
  });
  const entries: ChannelResponse<'files.list'>['entries'] = [];
  for (const entry of names) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(resolved, entry.name);
    if (entry.isDirectory()) entries.push({ name: entry.name, path: full, kind: 'dir', size: null });
    else if (entry.isFile()) {
      const size = await stat(full)
        .then((s) => s.size)
        .catch(() => null);
      entries.push({ name: entry.name, path: full, kind: 'file', size });
    }
    if (entries.length >= MAX_ENTRIES) break;
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  const parent = path.dirname(resolved);
  return { dir: resolved, parent: parent === resolved ? null : parent, entries };
}

export function resourcesDir(): string {
  return process.env.COS_RESOURCES_DIR ?? path.resolve('resources');
}

export async function sampleCohorts(): Promise<ChannelResponse<'files.samples'>> {
  const root = path.join(resourcesDir(), 'cohorts');
  const names = await readdir(root).catch(() => [] as string[]);
  const out: ChannelResponse<'files.samples'> = [];
  for (const name of names.sort()) {
    const vcfPath = path.join(root, name, 'cohort.vcf');
    const phenotypeCsvPath = path.join(root, name, 'phenotypes.csv');
    if (!existsSync(vcfPath) || !existsSync(phenotypeCsvPath)) continue;
    const readme = await readFile(path.join(root, name, 'README.md'), 'utf8').catch(() => '');
    const description =
      readme
        .split('\n')
        .find((line) => line.trim() && !line.startsWith('#'))
        ?.trim() ?? '';
    out.push({ name, vcfPath, phenotypeCsvPath, description });
  }
  return out;
}

export function settingsFile(dataDir: string): string {
  return path.join(dataDir, 'settings.json');
}

/** Saved settings (or the devnet defaults when none are saved or the file is damaged). */
export async function readSettings(dataDir: string): Promise<Settings> {
  try {
    return settingsSchema.parse(JSON.parse(await readFile(settingsFile(dataDir), 'utf8')));
  } catch {
    return {
      network: 'devnet',
      rpcUrl: null,
      deploymentFile: null,
      gatewayUrl: null,
      orchestratorUrl: null,
      confirmations: 0,
    };
  }
}

export function effectiveSettings(config: CoreConfig): Settings {
  return {
    network: config.networkName === 'devnet' ? 'devnet' : 'custom',
    rpcUrl: config.rpcUrl,
    deploymentFile: config.deploymentFile,
    gatewayUrl: config.gatewayUrl,
    orchestratorUrl: config.orchestratorUrl,
    confirmations: config.confirmations,
  };
}

export async function saveSettings(config: CoreConfig, settings: Settings): Promise<ChannelResponse<'settings.set'>> {
  if (settings.network === 'custom') {
    if (!settings.rpcUrl || !settings.deploymentFile) {
      throw new AppError('BAD_REQUEST', 'A custom network needs an RPC URL and a deployment file');
    }
    if (!path.isAbsolute(settings.deploymentFile) || !existsSync(settings.deploymentFile)) {
      throw new AppError('BAD_REQUEST', 'The deployment file does not exist');
    }
  }
  await mkdir(config.dataDir, { recursive: true });
  const file = settingsFile(config.dataDir);
  await writeFile(`${file}.tmp`, `${JSON.stringify(settings, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  const effective = effectiveSettings(config);
  const restartRequired = JSON.stringify(effective) !== JSON.stringify(settings);
  return { saved: settings, restartRequired };
}
