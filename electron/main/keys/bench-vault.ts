/**
 * Vault benchmark against the real OS keychain: unlock time (median and p95 over N runs) and
 * seal/unseal throughput for a 16 MiB secret, plus backup and restore time.
 *
 * It needs a running, unlocked Secret Service in the current D-Bus session (a desktop login has
 * one). It does not start one itself; on a headless machine wrap it like `npm test` does:
 *
 *   dbus-run-session -- sh -c 'printf %s pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
 *     node --import tsx electron/main/keys/bench-vault.ts'
 *
 * Options: --unlocks N (default 50), --runs N seal/unseal runs (default 5), --mib N secret size (default 16).
 * Uses a throwaway data folder and keychain service, removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isVaultError } from './errors';
import { KeytarKeychain } from './keychain';
import { Vault } from './vault';

const { values } = parseArgs({
  options: {
    unlocks: { type: 'string', default: '50' },
    runs: { type: 'string', default: '5' },
    mib: { type: 'string', default: '16' },
  },
});
const unlockRuns = Number(values.unlocks);
const sealRuns = Number(values.runs);
const secretMiB = Number(values.mib);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

function row(name: string, detail: string): void {
  console.log(`${name.padEnd(36)} ${detail}`);
}

function latency(samples: number[]): string {
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  return `median ${fmt(percentile(samples, 50))}, p95 ${fmt(percentile(samples, 95))}, min ${fmt(Math.min(...samples))}, max ${fmt(Math.max(...samples))} (n=${samples.length})`;
}

function throughput(samples: number[]): string {
  const rate = (ms: number) => `${(secretMiB / (ms / 1000)).toFixed(0)} MiB/s`;
  return `median ${rate(percentile(samples, 50))} (${percentile(samples, 50).toFixed(0)} ms), worst ${rate(Math.max(...samples))} (n=${samples.length})`;
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'cos-bench-vault-'));
  const keychain = new KeytarKeychain({ timeoutMs: 30_000 });
  const keychainService = `cos-custodian-bench-${randomBytes(6).toString('hex')}`;
  const vault = new Vault({ dataDir: path.join(workDir, 'data'), keychain, keychainService });
  const restoreVault = new Vault({
    dataDir: path.join(workDir, 'restored'),
    keychain,
    keychainService: `${keychainService}-r`,
  });
  const profileIds: [Vault, string][] = [];
  try {
    console.log(`vault benchmark: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
    let profileId = '';
    row(
      'create profile',
      `${(
        await timed(async () => {
          profileId = (await vault.createProfile({ label: 'Benchmark', role: 'steward' })).id;
        })
      ).toFixed(1)} ms`,
    );
    profileIds.push([vault, profileId]);

    const keychainReads: number[] = [];
    for (let i = 0; i < unlockRuns; i += 1) {
      keychainReads.push(await timed(() => keychain.getSecret(keychainService, `profile:${profileId}`)));
    }
    row('keychain read (keytar)', latency(keychainReads));

    const unlocks: number[] = [];
    for (let i = 0; i < unlockRuns; i += 1) {
      unlocks.push(await timed(async () => (await vault.unlock(profileId)).lock()));
    }
    row('unlock (keychain + wallet + checks)', latency(unlocks));

    const unlocked = await vault.unlock(profileId);
    const secret = randomBytes(secretMiB * 1024 * 1024);
    const seals: number[] = [];
    const unseals: number[] = [];
    const streamedUnseals: number[] = [];
    for (let i = 0; i < sealRuns; i += 1) {
      seals.push(await timed(() => unlocked.writeSecret('fhe-sk', secret)));
      unseals.push(await timed(async () => (await unlocked.readSecret('fhe-sk')).fill(0)));
      streamedUnseals.push(
        await timed(async () => {
          for await (const chunk of unlocked.readSecretStream('fhe-sk')) chunk.fill(0);
        }),
      );
    }
    row(`seal ${secretMiB} MiB (incl. fsync)`, throughput(seals));
    row(`unseal ${secretMiB} MiB (one buffer)`, throughput(unseals));
    row(`unseal ${secretMiB} MiB (streamed)`, throughput(streamedUnseals));
    unlocked.lock();

    const backupFile = path.join(workDir, 'bench.cosbackup');
    row(
      'backup export (scrypt 2^17, 8, 1)',
      `${(await timed(() => vault.exportBackup(profileId, 'bench passphrase 2024', backupFile))).toFixed(0)} ms`,
    );
    row(
      'backup restore',
      `${(await timed(() => restoreVault.restoreBackup(backupFile, 'bench passphrase 2024'))).toFixed(0)} ms`,
    );
    profileIds.push([restoreVault, profileId]);
  } finally {
    for (const [owner, id] of profileIds) await owner.deleteProfile(id).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  if (isVaultError(error) && error.vaultCode.startsWith('KEYCHAIN_')) {
    console.error(
      `${error.message}\nRun this inside a D-Bus session with an unlocked keyring (see the top of bench-vault.ts).`,
    );
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
