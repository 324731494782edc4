import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobStore, type PermitFacts } from './store';

function permit(id: number, blockNumber = 10 + id): PermitFacts {
  return {
    permitId: BigInt(id),
    grantId: 1n,
    datasetId: 2n,
    granteeSbtId: 3n,
    algorithmId: '0x' + 'ab'.repeat(32),
    paramsHash: '0x' + 'cd'.repeat(32),
    regionCode: '0x0000',
    blockNumber,
    txHash: '0x' + 'ef'.repeat(32),
  };
}

function tempDb(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'cos-orch-store-')), 'jobs.sqlite');
}

describe('JobStore', () => {
  it('records each permit once, moves the cursor with it, and survives reopening', () => {
    const file = tempDb();
    const store = new JobStore(file);
    expect(store.cursor()).toBeNull();
    expect(store.recordScan([permit(1), permit(2)], 20)).toEqual([1n, 2n]);
    // A rescan of the same blocks (reorg margin, restart) adds nothing.
    expect(store.recordScan([permit(2), permit(3)], 25)).toEqual([3n]);
    expect(store.cursor()).toBe(25);
    store.close();

    const again = new JobStore(file);
    expect(again.cursor()).toBe(25);
    expect(again.list().map((job) => [job.permitId, job.state])).toEqual([
      [1n, 'queued'],
      [2n, 'queued'],
      [3n, 'queued'],
    ]);
    again.close();
  });

  it('claims jobs in order, requeues the interrupted ones at restart, and honours retry times', () => {
    let now = 1_000;
    const file = tempDb();
    const store = new JobStore(file, { now: () => now });
    store.recordScan([permit(1), permit(2)], 20);
    const first = store.claimNext()!;
    expect(first.permitId).toBe(1n);
    expect(first.state).toBe('running');
    expect(first.attempts).toBe(1);
    store.markRetry(2n, 'not claimed yet', now + 500);
    expect(store.claimNext()).toBeNull();
    now += 500;
    expect(store.claimNext()!.permitId).toBe(2n);
    store.close();

    // The process died with both running: both are queued again at the next start.
    const reopened = new JobStore(file, { now: () => now });
    expect(reopened.requeueInterrupted()).toBe(2);
    expect(reopened.get(1n)).toMatchObject({ state: 'queued', attempts: 1 });
    const claimed = reopened.claimNext()!;
    expect(claimed.attempts).toBe(2);
    reopened.release(claimed.permitId);
    expect(reopened.get(1n)).toMatchObject({ state: 'queued', attempts: 1 });
    reopened.markPosted(1n, {
      resultCommitment: '0x' + '11'.repeat(32),
      resultURI: 'http://g/v1/results/1',
      txHash: null,
    });
    expect(reopened.get(1n)).toMatchObject({ state: 'posted', resultURI: 'http://g/v1/results/1', error: null });
    reopened.markFailed(2n, 'RESIDENCY: no attestation');
    expect(reopened.counts()).toMatchObject({ posted: 1, failed: 1, queued: 0 });
    expect(reopened.list({ state: 'failed' }).map((job) => job.error)).toEqual(['RESIDENCY: no attestation']);
    reopened.close();
  });

  it('parks jobs waiting for parameters and queues them when the parameters arrive', () => {
    const store = new JobStore(':memory:');
    store.recordScan([permit(7)], 30);
    store.claimNext();
    store.markWaitingParams(7n);
    expect(store.get(7n)!.state).toBe('waiting-params');
    expect(store.claimNext()).toBeNull();
    expect(store.setParams(7n, '{"phenotype":"case"}')).toBe(true);
    expect(store.get(7n)).toMatchObject({ state: 'queued', params: '{"phenotype":"case"}', attempts: 0 });
    expect(store.setParams(8n, '{}')).toBe(false);

    // Parameters that arrive while the job runs are not lost: it goes back to the queue, not to waiting.
    store.recordScan([permit(9)], 31);
    const running = store.claimNext()!;
    expect(running.permitId).toBe(7n);
    store.setParams(9n, '{}');
    const nine = store.claimNext()!;
    expect(nine.permitId).toBe(9n);
    store.markWaitingParams(9n);
    expect(store.get(9n)!.state).toBe('queued');
    store.close();
  });
});
