import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log';
import { jobParamsHash } from './algorithms';
import { startApi, type RunningApi } from './http';
import { JobStore } from './store';

const PARAMS = { phenotype: 'case', minMaf: 1 };
let store: JobStore;
let api: RunningApi;

beforeAll(async () => {
  store = new JobStore(':memory:');
  store.recordScan(
    [
      {
        permitId: 5n,
        grantId: 1n,
        datasetId: 1n,
        granteeSbtId: 4n,
        algorithmId: '0x' + 'ab'.repeat(32),
        paramsHash: jobParamsHash(PARAMS),
        regionCode: '0x0000',
        blockNumber: 42,
        txHash: '0x' + 'ef'.repeat(32),
      },
    ],
    50,
  );
  store.claimNext();
  store.markWaitingParams(5n);
  api = await startApi({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ service: 'test' }, { write: () => undefined }),
    store,
    version: 'test',
    jobParamsHash,
    health: () => ({ jobs: store.counts() }),
  });
});

afterAll(async () => {
  await api.close();
  store.close();
});

async function call(method: string, path: string, body?: string, type = 'application/json') {
  const res = await fetch(api.url + path, { method, body, headers: body ? { 'content-type': type } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('orchestrator HTTP API', () => {
  it('answers health with the job counts', async () => {
    const { status, body } = await call('GET', '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', service: 'orchestrator', jobs: { 'waiting-params': 1 } });
  });

  it('reports a job and lists jobs by state', async () => {
    const one = await call('GET', '/v1/jobs/5');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ permitId: '5', state: 'waiting-params', attempts: 1, hasParams: false });
    expect((await call('GET', '/v1/jobs?state=waiting-params')).body.jobs).toHaveLength(1);
    expect((await call('GET', '/v1/jobs?state=posted')).body.jobs).toEqual([]);
  });

  it('refuses bad paths and queries with typed errors', async () => {
    for (const path of ['/v1/jobs/0', '/v1/jobs/abc', '/v1/jobs/01', `/v1/jobs/${'9'.repeat(80)}`]) {
      const { status, body } = await call('GET', path);
      expect(status, path).toBe(400);
      expect(body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    expect((await call('GET', '/v1/jobs?state=done')).status).toBe(400);
    expect((await call('GET', '/v1/jobs?limit=100000')).status).toBe(400);
    expect((await call('GET', '/v1/jobs/6')).body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((await call('DELETE', '/v1/jobs/5')).status).toBe(404);
  });

  it('takes parameters only when they hash to the permit commitment, and changes nothing otherwise', async () => {
    const wrong = await call('PUT', '/v1/jobs/5/params', JSON.stringify({ phenotype: 'control', minMaf: 1 }));
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ error: { code: 'PARAMS_MISMATCH' } });
    expect((await call('PUT', '/v1/jobs/5/params', '{not json')).status).toBe(400);
    expect((await call('PUT', '/v1/jobs/5/params', '[1]')).status).toBe(400);
    expect((await call('PUT', '/v1/jobs/5/params', '{}', 'text/plain')).status).toBe(400);
    expect((await call('PUT', '/v1/jobs/5/params', JSON.stringify({ big: 'x'.repeat(70_000) }))).status).toBe(413);
    expect(store.get(5n)).toMatchObject({ state: 'waiting-params', params: null });

    // Key order does not matter: the hash is over canonical JSON.
    const right = await call('PUT', '/v1/jobs/5/params', JSON.stringify({ minMaf: 1, phenotype: 'case' }));
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ permitId: '5', state: 'queued', hasParams: true });
    expect(JSON.parse(store.get(5n)!.params!)).toEqual(PARAMS);
  });
});
