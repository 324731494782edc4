import { mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SignedTicket } from '../../../shared/gateway/protocol';
import type { ChannelRequest, ChannelResponse } from '../../../shared/ipc/contract';
import { AppError } from '../../../shared/ipc/errors';
import { toAppError, type CustodianContext } from './context';

/**
 * A lab's gateway tickets. Tickets are bearer credentials for 900 s: they stay in the main process (the
 * renderer sees their hash, dataset, op and expiry) and are forgotten when the profile locks.
 */
export class TicketBook {
  readonly #tickets = new Map<string, { owner: string; ticket: SignedTicket }>();

  constructor(private readonly ctx: CustodianContext) {}

  async request(request: ChannelRequest<'tickets.request'>): Promise<ChannelResponse<'tickets.request'>> {
    const active = this.ctx.requireActive();
    const sbtId = await this.ctx.requireSbt(active);
    let ticket: SignedTicket;
    try {
      ticket = await this.ctx.gateway().requestTicket(active.unlocked.signer, {
        sbtId,
        datasetId: request.datasetId,
        op: request.op,
      });
    } catch (error) {
      throw toAppError(error, 'The gateway did not issue a ticket');
    }
    this.#tickets.set(ticket.ticketHash, { owner: active.address, ticket });
    return view(ticket);
  }

  list(): ChannelResponse<'tickets.list'> {
    const active = this.ctx.active;
    const now = Math.floor(Date.now() / 1000);
    const out: ChannelResponse<'tickets.list'> = [];
    for (const [hash, entry] of this.#tickets) {
      if (entry.ticket.ticket.expiry <= now) this.#tickets.delete(hash);
      else if (active && entry.owner === active.address) out.push(view(entry.ticket));
    }
    return out;
  }

  async fetch(request: ChannelRequest<'objects.fetch'>): Promise<ChannelResponse<'objects.fetch'>> {
    const active = this.ctx.requireActive();
    const entry = this.#tickets.get(request.ticketHash);
    if (!entry || entry.owner !== active.address) throw new AppError('NOT_FOUND', 'No such ticket for this profile');
    const { ticket } = entry;
    const dir = path.join(this.ctx.deps.dataDir, 'downloads', `dataset-${ticket.ticket.datasetId}`);
    await mkdir(dir, { recursive: true });
    const gateway = this.ctx.gateway();
    try {
      if (!request.digest) {
        const { bytes } = await gateway.fetchManifest(ticket);
        const file = path.join(dir, 'manifest.json');
        await writeFile(file, bytes);
        return { path: file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
      }
      const file = path.join(dir, request.digest);
      await gateway.fetchObject(ticket, request.digest, { toFile: file });
      const bytes = await readFile(file);
      return { path: file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    } catch (error) {
      throw toAppError(error, 'The gateway did not serve the object');
    }
  }

  clear(): void {
    this.#tickets.clear();
  }
}

function view(ticket: SignedTicket): ChannelResponse<'tickets.request'> {
  return {
    ticketHash: ticket.ticketHash,
    datasetId: Number(ticket.ticket.datasetId),
    op: ticket.ticket.op,
    expiry: ticket.ticket.expiry,
    gateway: ticket.gateway,
  };
}
