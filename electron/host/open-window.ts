import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

const candidates = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.COS_CHROMIUM && existsSync(env.COS_CHROMIUM)) return env.COS_CHROMIUM;
  return candidates.find((c) => existsSync(c)) ?? null;
}

export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform = process.platform): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** Opens the browser host in a Chromium app window with a profile of its own under the data folder. */
export function openAppWindow(chromium: string, url: string, profileDir: string): ChildProcess {
  const args = [
    `--app=${url}`,
    `--user-data-dir=${profileDir}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--window-size=1360,860',
  ];
  // Chromium refuses to run as root without this; a root session is common in containers.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return spawn(chromium, args, { stdio: 'ignore' });
}
