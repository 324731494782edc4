import os from 'node:os';
import path from 'node:path';

export const APP_NAME = 'COS Custodian';

/**
 * The app's data folder, the same one Electron's userData would be, so the Electron window and the
 * browser host share profiles and the devnet chain state. COS_DATA_DIR overrides it.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.COS_DATA_DIR) return path.resolve(env.COS_DATA_DIR);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_NAME);
}
