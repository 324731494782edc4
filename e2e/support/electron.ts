import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The Electron binary that `npm install` downloaded, or null where it could not (these machines). */
export function electronBinary(): string | null {
  try {
    const dir = path.dirname(require.resolve('electron/package.json'));
    const binary = path.join(dir, 'dist', readFileSync(path.join(dir, 'path.txt'), 'utf8').trim());
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

export const ELECTRON_MISSING =
  'electron specs skipped: the Electron runtime is not installed on this machine (npm install could not download it)';
