import type { z } from 'zod';
import {
  channels,
  isChannelName,
  type ChannelName,
  type ChannelRequest,
  type ChannelResponse,
  type Channels,
} from '../../../shared/ipc/contract';
import { AppError, type IpcError, type IpcResult } from '../../../shared/ipc/errors';

export type Handler<C extends ChannelName> = (
  request: z.output<Channels[C]['request']>,
) => Promise<ChannelResponse<C>> | ChannelResponse<C>;

export type Handlers = { [C in ChannelName]: Handler<C> };

export interface Router {
  /** Validates the channel and request, runs the handler, validates its answer; never throws. */
  dispatch(channel: unknown, request: unknown): Promise<IpcResult<unknown>>;
}

export interface RouterOptions {
  /** Receives unexpected errors with their stack; the renderer only sees a generic message. */
  onInternalError?: (channel: string, error: unknown) => void;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(request)'}: ${issue.message}`)
    .join('; ');
}

function fail(code: IpcError['code'], message: string): IpcResult<never> {
  return { ok: false, error: { code, message } };
}

export function createRouter(handlers: Handlers, options: RouterOptions = {}): Router {
  return {
    async dispatch(channel, request) {
      if (!isChannelName(channel)) {
        return fail('UNKNOWN_CHANNEL', `Unknown channel: ${String(channel).slice(0, 64)}`);
      }
      const schema = channels[channel];
      const parsed = schema.request.safeParse(request ?? {});
      if (!parsed.success) {
        return fail('BAD_REQUEST', `Invalid request for ${channel}: ${describeIssues(parsed.error)}`);
      }
      let value: unknown;
      try {
        const handler = handlers[channel] as (req: unknown) => Promise<unknown> | unknown;
        value = await handler(parsed.data);
      } catch (error) {
        if (error instanceof AppError) return fail(error.code, error.message);
        options.onInternalError?.(channel, error);
        return fail('INTERNAL', `Internal error while handling ${channel}`);
      }
      const checked = schema.response.safeParse(value);
      if (!checked.success) {
        options.onInternalError?.(channel, checked.error);
        return fail('BAD_RESPONSE', `The core produced an invalid response for ${channel}`);
      }
      return { ok: true, value: checked.data };
    },
  };
}

/** Typed call helper for tests and the host: the result type follows the channel. */
export async function call<C extends ChannelName>(
  router: Router,
  channel: C,
  request: ChannelRequest<C>,
): Promise<IpcResult<ChannelResponse<C>>> {
  return (await router.dispatch(channel, request)) as IpcResult<ChannelResponse<C>>;
}
