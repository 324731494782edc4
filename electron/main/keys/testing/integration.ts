import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as keytarApi from 'keytar';

/** keytar itself, for tests that look into the real keychain behind the vault's back. */
export const keytar = createRequire(import.meta.url)('keytar') as typeof keytarApi;

const childScript = fileURLToPath(new URL('./vault-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** A keychain service of its own per test file, so tests never meet real or each other's profiles. */
export function testKeychainService(): string {
  return `cos-custodian-test-${randomBytes(6).toString('hex')}`;
}

export async function removeKeychainService(service: string): Promise<void> {
  for (const { account } of await keytar.findCredentials(service)) await keytar.deletePassword(service, account);
}

/** Every file under `dir`, relative path -> content (missing folder -> empty). */
export async function filesUnder(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true })) as string[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return files;
    throw error;
  }
  for (const entry of entries) {
    const content = await readFile(path.join(dir, entry)).catch(() => null); // folders
    if (content !== null) files.set(entry, content);
  }
  return files;
}

export interface ChildRun {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /** Wraps the command, e.g. in `dbus-run-session -- sh -c ...`. */
  wrapper?: string[];
  /** Called for each JSON line as it arrives; return true to SIGKILL the child. */
  onLine?: (line: Record<string, unknown>) => boolean | Promise<boolean>;
}

/** Runs testing/vault-child.ts with real keytar in a separate process. */
export function runVaultChild(args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  const command = [...(options.wrapper ?? []), process.execPath, '--import', 'tsx', childScript, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), {
      cwd: repoRoot,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', async (chunk: Buffer) => {
      stdout += chunk.toString();
      let newline: number;
      while ((newline = stdout.indexOf('\n')) >= 0) {
        const text = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        if (options.onLine && (await options.onLine(line))) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines, stderr }));
  });
}

/** The environment of this process minus what would lead a child to this session's keyring. */
export function envWithoutKeyring(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.GNOME_KEYRING_CONTROL;
  delete env.SSH_AUTH_SOCK;
  return env;
}
