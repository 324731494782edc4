import type { GatewayErrorCode } from '../../shared/gateway/protocol';

const STATUS: Record<GatewayErrorCode, number> = {
  BAD_REQUEST: 400,
  BAD_SIGNATURE: 401,
  BAD_TICKET: 401,
  TICKET_EXPIRED: 401,
  WRONG_OP: 403,
  WRONG_DATASET: 403,
  ACCESS_DENIED: 403,
  CHALLENGE_UNKNOWN: 401,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  DIGEST_MISMATCH: 422,
  RATE_LIMITED: 429,
  CHAIN_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** An error the gateway answers with: HTTP status from the code, `{ error: { code, message } }`. */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = STATUS[code];
  }
}

export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}
