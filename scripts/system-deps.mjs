// System packages the app and its tests use, by the command that proves each is there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** command on PATH (or absolute path) -> Debian package that provides it */
export const testDeps = [
  { command: 'chromium', package: 'chromium', why: 'end-to-end tests drive Debian Chromium' },
  { command: 'dbus-run-session', package: 'dbus-daemon', why: 'a private D-Bus session for keychain tests' },
  { command: 'gnome-keyring-daemon', package: 'gnome-keyring', why: 'a real Secret Service keychain for tests' },
  { command: 'Xvfb', package: 'xvfb', why: 'a display for Electron specs where the runtime exists' },
  {
    command: 'plink1.9',
    package: 'plink1.9',
    why: 'PLINK 1.9 is the reference the GWAS statistics are tested against',
  },
];

export function hasCommand(command) {
  if (command.startsWith('/')) return existsSync(command);
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs what is missing with apt-get when we are root on Debian; otherwise stops with the exact
 * command to run.
 */
export function ensureSystemDeps(deps, say = console.log) {
  const missing = deps.filter((d) => !hasCommand(d.command));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((d) => d.package))];
  const install = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  for (const d of missing) say(`cos: missing ${d.command} (${d.why})`);
  const isRoot = process.getuid?.() === 0;
  if (isRoot && hasCommand('apt-get')) {
    say(`cos: installing: ${packages.join(' ')}`);
    const result = spawnSync('sh', ['-c', install], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status === 0 && deps.every((d) => hasCommand(d.command))) return;
    throw new Error(`installing system packages failed; run: sudo sh -c '${install}'`);
  }
  throw new Error(`missing system packages; run: sudo sh -c '${install}'`);
}
