import { expect, type Page } from '@playwright/test';
import { keccak256, toUtf8Bytes } from 'ethers';
import WebSocket from 'ws';
import { duoMask } from '../../shared/domain/duo';
import {
  events as eventSchemas,
  type ChannelName,
  type ChannelRequest,
  type ChannelResponse,
  type EventName,
  type EventPayload,
} from '../../shared/ipc/contract';
import { ipcErrorSchema, type IpcError } from '../../shared/ipc/errors';

const HOST_PROTOCOL = 'cos.v1';
const TOKEN_PROTOCOL_PREFIX = 'cos-token.';

export class CoreCallError extends Error {
  constructor(
    readonly channel: string,
    readonly error: IpcError,
  ) {
    super(`${channel} failed: ${error.code} ${error.message}`);
  }
}

/**
 * A test's own door to the running app's core, over the browser host's WebSocket protocol exactly as the
 * renderer uses it (token in the sub-protocol, the host's Origin). It drives the steps of another party
 * (e.g. the steward's grant) when a journey is about one workspace. The core has one active profile:
 * calls act for whichever profile is unlocked, the same as the page's.
 */
export interface CoreClient {
  call<C extends ChannelName>(channel: C, request: ChannelRequest<C>): Promise<ChannelResponse<C>>;
  /** Resolves with the first event of that name for which `match` holds. */
  waitForEvent<E extends EventName>(
    event: E,
    match: (payload: EventPayload<E>) => boolean,
    timeoutMs?: number,
  ): Promise<EventPayload<E>>;
  close(): void;
}

export async function connectCore(appUrl: string): Promise<CoreClient> {
  const url = new URL(appUrl);
  const token = /token=([0-9a-f]{64})/.exec(url.hash)?.[1];
  if (!token) throw new Error('the app URL carries no token');
  const ws = new WebSocket(`ws://${url.host}/ipc`, [HOST_PROTOCOL, TOKEN_PROTOCOL_PREFIX + token], {
    origin: url.origin,
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`host refused the socket: ${res.statusCode}`)));
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  const listeners = new Set<(event: string, payload: unknown) => void>();
  ws.on('message', (data: Buffer) => {
    let frame: { id?: unknown; result?: unknown; event?: unknown; payload?: unknown };
    try {
      frame = JSON.parse(data.toString()) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame.id === 'number') {
      pending.get(frame.id)?.(frame.result);
      pending.delete(frame.id);
    } else if (typeof frame.event === 'string') {
      for (const listener of listeners) listener(frame.event, frame.payload);
    }
  });
  return {
    call(channel, request) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`no answer to ${channel} within 120 s`));
        }, 120_000);
        pending.set(id, (raw) => {
          clearTimeout(timer);
          const result = raw as { ok?: unknown; value?: unknown; error?: unknown };
          if (result?.ok === true) resolve(result.value as ChannelResponse<typeof channel>);
          else {
            const parsed = ipcErrorSchema.safeParse(result?.error);
            reject(
              new CoreCallError(
                channel,
                parsed.success ? parsed.data : { code: 'INTERNAL', message: 'malformed answer from the core' },
              ),
            );
          }
        });
        ws.send(JSON.stringify({ id, channel, request }));
      });
    },
    waitForEvent(event, match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const listener = (name: string, payload: unknown) => {
          if (name !== event) return;
          const parsed = eventSchemas[event].safeParse(payload);
          if (!parsed.success) return;
          if (!match(parsed.data as EventPayload<typeof event>)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(parsed.data as EventPayload<typeof event>);
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no ${event} event within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(listener);
      });
    },
    close() {
      for (const resolve of pending.values())
        resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'client closed' } });
      pending.clear();
      ws.close();
    },
  };
}

/** Polls `probe` until it returns a value (not null/undefined/false). */
export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/* ---- Steps the journeys share: the UI's own controls, and the steward's side by IPC. ---- */

export type Role = 'steward' | 'donor' | 'lab';

export async function openPage(page: Page, id: string): Promise<void> {
  await page.getByTestId(`nav-${id}`).click();
}

/** Creates and onboards a profile through the Profiles page; returns its identity token id. */
export async function createProfile(page: Page, label: string, role: Role): Promise<number> {
  await openPage(page, 'profile');
  await page.getByLabel('Profile name').fill(label);
  await page.getByLabel('Role').selectOption(role);
  await page.getByRole('button', { name: 'Create and onboard' }).click();
  const row = page.getByTestId(`profile-${label}`);
  await expect(row.getByTestId('sbt-id')).toHaveText(/^\d+$/, { timeout: 60_000 });
  await expect(row.getByText('Active', { exact: true })).toBeVisible();
  await expect(page.getByRole('radio', { name: role[0]!.toUpperCase() + role.slice(1) })).toBeChecked();
  return Number(await row.getByTestId('sbt-id').textContent());
}

/** Unlocks another profile through the Profiles page (the workspace follows its role). */
export async function unlockProfile(page: Page, label: string): Promise<void> {
  await openPage(page, 'profile');
  await page.getByRole('button', { name: `Unlock ${label}`, exact: true }).click();
  await expect(page.getByTestId(`profile-${label}`).getByText('Active', { exact: true })).toBeVisible();
}

/** The steward's import of the bundled tiny cohort (or a given phenotype file), by IPC. */
export async function importTinyCohort(
  core: CoreClient,
  options: { phenotypeCsvPath?: string; feeTaskId?: string } = {},
): Promise<ChannelResponse<'datasets.import'>> {
  const samples = await core.call('files.samples', {});
  const tiny = samples.find((sample) => sample.name.toLowerCase().includes('tiny')) ?? samples[0];
  if (!tiny) throw new Error('no bundled cohort');
  const imported = await core.call('datasets.import', {
    vcfPath: tiny.vcfPath,
    phenotypeCsvPath: options.phenotypeCsvPath ?? tiny.phenotypeCsvPath,
    phenotypeColumn: 'case',
    sampleIdColumn: 'sample_id',
    consentIdColumn: 'consent_id',
    consentCodes: duoMask(['GRU', 'HMB']),
    royaltyBps: 500,
    taskId: options.feeTaskId ?? `e2e-import-${Date.now()}`,
  });
  await until('the dataset in the cache', async () =>
    (await core.call('datasets.list', {})).some((d) => d.datasetId === imported.dataset.datasetId),
  );
  return imported;
}

/** The steward's grant of a pending request with every clause, by IPC. */
export async function grantRequest(
  core: CoreClient,
  grantId: number,
  options: { feePerUse?: bigint; opMask?: number } = {},
): Promise<void> {
  const request = await until('the request in the steward cache', async () =>
    (await core.call('requests.list', { mine: true })).find((r) => r.grantId === grantId),
  );
  const now = Math.floor(Date.now() / 1000);
  await core.call('access.grant', {
    grantId,
    terms: {
      opMask: options.opMask ?? request.opMask,
      notBefore: now - 120,
      expiry: now + 86_400,
      maxRuns: 10,
      rateWindow: 0,
      rateMaxRuns: 0,
      region: '',
      epsilonCap: 3_000_000,
      deltaCap: '1000000000',
      termsHash: keccak256(toUtf8Bytes('e2e terms: derivative only')),
      keySwitchAllowed: false,
      feePerUse: (options.feePerUse ?? 0n).toString(),
      ownerBps: 7000,
      donorsBps: 2000,
    },
  });
  await until('the grant in the cache', async () =>
    (await core.call('grants.list', {})).some((g) => g.grantId === grantId),
  );
}

/** A permit's result as the active profile sees it, or null while the permit is not in its cache yet. */
export async function resultOf(core: CoreClient, permitId: number): Promise<ChannelResponse<'results.get'> | null> {
  try {
    return await core.call('results.get', { permitId });
  } catch (error) {
    if (error instanceof CoreCallError && error.error.code === 'NOT_FOUND') return null;
    throw error;
  }
}
