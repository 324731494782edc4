import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The native anvil binary shipped by @foundry-rs/anvil's platform package (no JS wrapper in between, so signals reach it). */
export function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const platform = process.platform;
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${platform}-${arch}/package.json`);
    const bin = path.join(path.dirname(pkg), 'bin', platform === 'win32' ? 'anvil.exe' : 'anvil');
    if (existsSync(bin)) return bin;
  } catch {
    // fall through to the wrapper
  }
  const wrapper = path.resolve('node_modules', '.bin', platform === 'win32' ? 'anvil.cmd' : 'anvil');
  if (existsSync(wrapper)) return wrapper;
  throw new Error('anvil not found: run `npm install` (it ships with @foundry-rs/anvil)');
}

export interface AnvilOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Load on start, dump on exit and every `stateIntervalSeconds`: the chain survives restarts. */
  stateFile?: string;
  stateIntervalSeconds?: number;
  /** Seconds between blocks; undefined mines one block per transaction. */
  blockTime?: number;
  chainId?: number;
  log?: (line: string) => void;
}

export interface Anvil {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0)];
  if (options.chainId !== undefined) args.push('--chain-id', String(options.chainId));
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  if (options.stateFile) {
    args.push('--state', options.stateFile, '--state-interval', String(options.stateIntervalSeconds ?? 5));
  }
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`anvil did not start within 20 s: ${buffer.slice(-500)}`)), 20_000);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => options.log?.(`anvil: ${chunk.toString().trim()}`));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited with code ${code}: ${buffer.slice(-500)}`));
    });
  });
  // Keep draining stdout so anvil never blocks on a full pipe.
  child.stdout?.on('data', () => undefined);

  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGINT makes anvil dump its state file before exiting.
      child.kill('SIGINT');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
