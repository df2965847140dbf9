// The API's one error shape, `{ error, message, details? }`, and the errors handlers throw to produce it. The pages
// read an error answer into the same class (web/lib.ts), so this module imports nothing and runs in a browser too.
/** An answer of `statusCode` with body `{ error: code, message, details? }`. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Headers the answer carries, such as a 429's Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details?: unknown) => new ApiError(409, code, message, details);
export const forbidden = (message = 'You may not do this') => new ApiError(403, 'forbidden', message);
export const unauthorized = (message = 'A valid bearer token is required') =>
  new ApiError(401, 'unauthorized', message);
export const unprocessable = (code: string, message: string, details?: unknown) =>
  new ApiError(422, code, message, details);
/** The system is past what it can take: try again after `retryAfterSeconds`. */
export const overloaded = (retryAfterSeconds: number) =>
  new ApiError(
    503,
    'overloaded',
    `Too many orders are being placed right now; try again in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
    { 'retry-after': String(retryAfterSeconds) },
  );
export const badRequest = (code: string, message: string, details?: unknown) =>
  new ApiError(400, code, message, details);
