#!/usr/bin/env node
/**
 * `npm start`: build the app, then run the launcher (services/devnet/launch.ts): a local anvil chain
 * with the contracts, the gateway and the orchestrator, and the app window. Extra arguments go to
 * the launcher: `npm start -- --no-open` prints the URL instead of opening a window.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('node_modules')) {
  console.error('cos: dependencies are not installed; run: npm install');
  process.exit(1);
}

console.log('cos: building main, preload and renderer...');
const build = spawnSync('npx', ['electron-vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const launcher = spawn(process.execPath, ['--import', 'tsx', 'services/devnet/launch.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
// Ctrl-C reaches the launcher through the process group; it stops its children in order.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => launcher.kill('SIGTERM'));
launcher.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
