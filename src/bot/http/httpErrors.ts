/** An error whose status and public code are safe to send to the client; never carries internals. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly publicMessage: string,
  ) {
    super(publicMessage);
    this.name = 'HttpError';
  }
}

export const errorBody = (code: string, message: string) => ({ error: { code, message } });
