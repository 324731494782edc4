import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface RunningLauncher {
  /** The browser-host URL with its token, as printed by `npm start`. */
  url: string;
  process: ChildProcess;
  output(): string;
  /** Sends Ctrl-C (SIGINT) and resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

/**
 * Runs the same launcher as `npm start` (services/devnet/launch.ts) with its own data folder and
 * no window, and resolves once it prints the app URL.
 */
export async function startLauncher(dataDir: string, extraEnv: Record<string, string> = {}): Promise<RunningLauncher> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('services/devnet/launch.ts'), '--no-open'], {
    env: { ...process.env, COS_DATA_DIR: dataDir, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`launcher not ready within 90 s:\n${output}`)), 90_000);
    const poll = setInterval(() => {
      const match = /app ready at (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64})/.exec(output);
      if (match?.[1]) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]);
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`launcher exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    url,
    process: child,
    output: () => output,
    async interrupt() {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
