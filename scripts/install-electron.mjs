// Electron 45 fetches its runtime lazily; fetch it at install time where the network allows,
// and skip with one line where it does not (the browser host runs the same app without it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function electronDir() {
  try {
    return path.dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
}

const dir = electronDir();
if (!dir) process.exit(0); // production install without dev dependencies
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.log(
    'cos: ELECTRON_SKIP_BINARY_DOWNLOAD is set; Electron runtime not installed (npm start uses the browser host).',
  );
  process.exit(0);
}
if (existsSync(path.join(dir, 'path.txt'))) process.exit(0);

const result = spawnSync(process.execPath, [path.join(dir, 'install.js')], {
  stdio: ['ignore', 'ignore', 'pipe'],
  timeout: Number(process.env.COS_ELECTRON_DOWNLOAD_TIMEOUT_MS ?? 120_000),
});
if (result.status === 0) {
  console.log('cos: Electron runtime installed.');
} else {
  const reason = (result.stderr?.toString() ?? '').split('\n').find((l) => l.trim()) ?? 'timed out';
  console.log(
    `cos: Electron runtime could not be downloaded (${reason.trim().slice(0, 120)}); skipped, npm start uses the browser host.`,
  );
}
