#!/usr/bin/env node
/**
 * Runs forge for this repository: from the repository root with contracts/foundry.toml, offline, compiling with
 * solc-js (contracts/tools/solc-js.mjs) since forge cannot download solc here. Arguments pass through:
 *
 *   node contracts/tools/forge.mjs test --match-contract DataAccessTest -vvv
 *   node contracts/tools/forge.mjs fmt --check
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const toolsDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(toolsDir, '..', '..');
export const foundryConfig = path.join(repoRoot, 'contracts', 'foundry.toml');
export const solcJs = path.join(toolsDir, 'solc-js.mjs');

// Commands that compile and so take --offline and --use.
const COMPILING = new Set(['build', 'b', 'compile', 'test', 't', 'coverage', 'snapshot', 's', 'inspect', 'script']);

/** The native forge binary from @foundry-rs/forge's platform package, else the npm wrapper. */
export function forgeBinary() {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const exe = process.platform === 'win32' ? 'forge.exe' : 'forge';
  try {
    const pkg = require.resolve(`@foundry-rs/forge-${process.platform}-${arch}/package.json`);
    const bin = path.join(path.dirname(pkg), 'bin', exe);
    if (existsSync(bin)) return bin;
  } catch {
    // fall back to the wrapper
  }
  const wrapper = path.join(repoRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'forge.cmd' : 'forge');
  if (existsSync(wrapper)) return wrapper;
  throw new Error('forge not found: run `npm install` (it ships with @foundry-rs/forge)');
}

/** forge's argument list for `args` (the subcommand first), with the repository's root and compiler. */
export function forgeArgs(args) {
  const [command, ...rest] = args;
  if (!command) return ['--help'];
  if (command.startsWith('-')) return args; // forge --version, forge --help
  const extra = ['--root', repoRoot];
  if (COMPILING.has(command)) extra.push('--offline', '--use', solcJs);
  return [command, ...extra, ...rest];
}

/** Runs forge with `args`, inheriting stdio unless `options.stdio` says otherwise; resolves to the exit code. */
export function runForge(args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(forgeBinary(), forgeArgs(args), {
      cwd: repoRoot,
      stdio: options.stdio ?? 'inherit',
      env: { ...process.env, FOUNDRY_CONFIG: foundryConfig },
    });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runForge(process.argv.slice(2));
}
