import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface ServiceChild {
  name: string;
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts one of the Node services (services/<name>/main.ts) on a free loopback port and resolves
 * once it logs its URL; its structured log lines are passed to `onLog`.
 */
export async function startServiceChild(
  name: 'gateway' | 'orchestrator',
  env: Record<string, string>,
  onLog: (line: string) => void,
): Promise<ServiceChild> {
  const entry = path.resolve('services', name, 'main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        onLog(line);
        try {
          const record = JSON.parse(line) as { msg?: string; url?: string };
          if (record.msg === 'listening' && record.url) {
            clearTimeout(timer);
            resolve(record.url);
          }
        } catch {
          // not a structured line
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => onLog(`${name} stderr: ${chunk.toString().trimEnd()}`));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready`));
    });
  });
  return {
    name,
    url,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
