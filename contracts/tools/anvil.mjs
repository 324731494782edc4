/**
 * A throwaway anvil chain for the contract tools and tests: a free port on 127.0.0.1, silent, automine.
 * The persistent devnet chain lives in services/devnet; this one is for benchmarks and integration tests only.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { repoRoot } from './forge.mjs';

const require = createRequire(import.meta.url);

/** The native anvil binary from @foundry-rs/anvil's platform package (signals reach it), else the npm wrapper. */
export function anvilBinary() {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
    const bin = path.join(path.dirname(pkg), 'bin', exe);
    if (existsSync(bin)) return bin;
  } catch {
    // fall back to the wrapper
  }
  const wrapper = path.join(repoRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'anvil.cmd' : 'anvil');
  if (existsSync(wrapper)) return wrapper;
  throw new Error('anvil not found: run `npm install` (it ships with @foundry-rs/anvil)');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function answers(rpcUrl) {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Starts anvil on a free port. Resolves to { rpcUrl, stop } once it answers JSON-RPC.
 * @param {{ args?: string[], timeoutMs?: number }} [options]
 */
export async function startAnvil(options = {}) {
  const port = await freePort();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const child = spawn(
    anvilBinary(),
    ['--host', '127.0.0.1', '--port', String(port), '--silent', ...(options.args ?? [])],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let running = true;
  exited.then(() => {
    running = false;
  });
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!(await answers(rpcUrl))) {
    if (!running) throw new Error(`anvil exited before answering: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`anvil did not answer on ${rpcUrl}: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    rpcUrl,
    async stop() {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
