import { z } from 'zod';

/** Every failure that crosses the IPC boundary carries one of these codes. */
export const ipcErrorCodes = [
  'UNKNOWN_CHANNEL',
  'BAD_REQUEST',
  'BAD_RESPONSE',
  'NOT_FOUND',
  'CONFLICT',
  'UNAVAILABLE',
  'FORBIDDEN',
  'INTERNAL',
] as const;

export const ipcErrorCodeSchema = z.enum(ipcErrorCodes);
export type IpcErrorCode = z.infer<typeof ipcErrorCodeSchema>;

export const ipcErrorSchema = z.object({
  code: ipcErrorCodeSchema,
  message: z.string(),
});
export type IpcError = z.infer<typeof ipcErrorSchema>;

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcError };

/**
 * Thrown by handlers to return a typed error; anything else becomes INTERNAL
 * with a generic message, so stack traces and internals never reach the renderer.
 */
export class AppError extends Error {
  readonly code: IpcErrorCode;

  constructor(code: IpcErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }
}
