#!/usr/bin/env node
/**
 * `npm test`: every suite, for real. Static checks (types, ESLint, Prettier, solhint, forge fmt),
 * unit (Vitest), contracts (forge, offline, solc-js), integration (Vitest against real anvil and
 * service processes) and end-to-end (Playwright in Debian Chromium through the browser host, plus
 * Electron specs where the runtime exists). Runs inside a private D-Bus session with an unlocked
 * gnome-keyring, and under Xvfb when a display is needed. Ends with one line: N passed, N failed.
 *
 *   npm test                       all suites
 *   npm test -- --suite unit,e2e   some of them (static, unit, contracts, integration, e2e)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ensureSystemDeps, testDeps } from './system-deps.mjs';

const allSuites = ['static', 'unit', 'contracts', 'integration', 'e2e'];
const argv = process.argv.slice(2);
const suiteFlag = argv.indexOf('--suite');
const suites = suiteFlag >= 0 ? argv[suiteFlag + 1].split(',') : allSuites;
for (const s of suites) {
  if (!allSuites.includes(s)) {
    console.error(`cos: unknown suite ${s} (choose from ${allSuites.join(', ')})`);
    process.exit(2);
  }
}

const require = createRequire(import.meta.url);
const RESULTS = path.resolve('test-results');

function electronRuntimeInstalled() {
  try {
    const dir = path.dirname(require.resolve('electron/package.json'));
    const rel = readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
    return existsSync(path.join(dir, 'dist', rel));
  } catch {
    return false;
  }
}

// 1. Outside the session: system packages, then re-run inside a private D-Bus session.
if (!process.env.COS_TEST_SESSION) {
  try {
    ensureSystemDeps(testDeps);
  } catch (error) {
    console.error(`cos: ${error.message}`);
    process.exit(1);
  }
  if (!existsSync('node_modules')) {
    console.error('cos: dependencies are not installed; run: npm ci');
    process.exit(1);
  }
  // The session's keyring lives in a throwaway folder: tests never touch the user's own keyrings.
  const keyringHome = mkdtempSync(path.join(os.tmpdir(), 'cos-test-keyring-'));
  const child = spawn('dbus-run-session', ['--', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, COS_TEST_SESSION: '1', XDG_DATA_HOME: keyringHome },
  });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    rmSync(keyringHome, { recursive: true, force: true });
    process.exit(code ?? (signal ? 1 : 0));
  });
} else {
  await runInsideSession();
}

function unlockKeyring() {
  // A throwaway login keyring for this session only; the password never leaves this process tree.
  const result = spawnSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], {
    input: 'cos-test-session',
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`gnome-keyring-daemon failed: ${result.stderr}`);
  for (const line of result.stdout.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1]] = match[2];
  }
}

async function startXvfb() {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1440x900x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    xvfb.stdio[3].on('data', (chunk) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
  });
  process.env.DISPLAY = display;
  return xvfb;
}

function run(command, args, extraEnv = {}) {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

async function vitestSuite(project) {
  const report = path.join(RESULTS, `${project}.json`);
  rmSync(report, { force: true });
  const { code } = await run('npx', [
    'vitest',
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ]);
  const json = readJson(report);
  if (!json) return { passed: 0, failed: 1, skipped: 0, note: `no report (exit ${code})` };
  const failed = json.numFailedTests + (code !== 0 && json.numFailedTests === 0 ? 1 : 0);
  return { passed: json.numPassedTests, failed, skipped: json.numPendingTests + json.numTodoTests };
}

async function forgeSuite() {
  const { code, output } = await run('npm', ['run', '--silent', 'test:contracts']);
  const match = /(\d+) tests passed, (\d+) failed, (\d+) skipped/.exec(output);
  if (!match) return { passed: 0, failed: 1, skipped: 0, note: `no forge summary (exit ${code})` };
  const failed = Number(match[2]) + (code !== 0 && Number(match[2]) === 0 ? 1 : 0);
  return { passed: Number(match[1]), failed, skipped: Number(match[3]) };
}

async function e2eSuite() {
  const build = await run('npx', ['electron-vite', 'build']);
  if (build.code !== 0) return { passed: 0, failed: 1, skipped: 0, note: 'renderer build failed' };
  const report = path.join(RESULTS, 'e2e-report.json');
  rmSync(report, { force: true });
  const { code } = await run('npx', ['playwright', 'test']);
  const json = readJson(report);
  if (!json) return { passed: 0, failed: 1, skipped: 0, note: `no report (exit ${code})` };
  const { expected, unexpected, flaky, skipped } = json.stats;
  return { passed: expected + flaky, failed: unexpected + (code !== 0 && unexpected === 0 ? 1 : 0), skipped };
}

async function staticSuite() {
  const checks = [
    ['types', 'npm', ['run', '--silent', 'typecheck']],
    ['eslint+prettier', 'npm', ['run', '--silent', 'lint']],
    ['solhint+forge fmt', 'npm', ['run', '--silent', 'lint:sol']],
  ];
  let passed = 0;
  const failedNames = [];
  for (const [name, command, args] of checks) {
    const { code } = await run(command, args);
    if (code === 0) passed += 1;
    else failedNames.push(name);
  }
  return {
    passed,
    failed: failedNames.length,
    skipped: 0,
    note: failedNames.length ? `failed: ${failedNames.join(', ')}` : 'checks',
  };
}

async function runInsideSession() {
  mkdirSync(RESULTS, { recursive: true });
  unlockKeyring();
  let xvfb = null;
  if (suites.includes('e2e') && electronRuntimeInstalled() && !process.env.DISPLAY) xvfb = await startXvfb();

  const runners = {
    static: staticSuite,
    unit: () => vitestSuite('unit'),
    contracts: forgeSuite,
    integration: () => vitestSuite('integration'),
    e2e: e2eSuite,
  };
  const results = [];
  for (const suite of suites) {
    console.log(`\n=== ${suite} ===`);
    const started = Date.now();
    const result = await runners[suite]();
    results.push({ suite, seconds: Math.round((Date.now() - started) / 1000), ...result });
  }
  xvfb?.kill();

  console.log('\n=== summary ===');
  for (const r of results) {
    const note = r.note ? ` (${r.note})` : '';
    console.log(
      `${r.suite.padEnd(12)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped in ${r.seconds}s${note}`,
    );
  }
  const total = (key) => results.reduce((sum, r) => sum + r[key], 0);
  console.log(`${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped`);
  process.exit(total('failed') === 0 ? 0 : 1);
}
