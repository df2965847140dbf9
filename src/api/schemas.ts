// Schemas shared by several routes, and the error responses routes declare.
import { Type } from 'typebox';
import { Role } from '../domain/vocabulary.js';

export const ErrorBody = Type.Object({
  error: Type.String({ examples: ['not_found'] }),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
/** An email address as people type it; stored trimmed and lower-cased. */
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
/** Long enough to resist guessing, short enough that hashing it costs a bounded time. */
export const Password = Type.String({ minLength: 10, maxLength: 200 });
/** A person's name: something other than spaces, at most 100 characters. */
export const PersonName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

/** Who a credential stands for, as the API shows a user to themselves. */
export const SessionUser = Type.Object({
  id: Uuid,
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  role: Role,
  locationIds: Type.Array(Uuid),
});

export const Latitude = Type.Number({ minimum: -90, maximum: 90 });
export const Longitude = Type.Number({ minimum: -180, maximum: 180 });
export const Cents = Type.Integer({ minimum: 0 });

/** What each error status means in this API; every error is an ErrorBody sent as JSON. */
export const ERROR_STATUSES = {
  400: 'The request is malformed or fails validation (details name the fields)',
  401: 'No valid credentials: a bearer token (or session cookie) is required, or the one sent is malformed or unknown',
  403: 'The caller may not do this: wrong role, another driver holds the delivery, or a session-cookie request without x-csrf',
  404: 'What the path names does not exist, or is not the caller’s to see',
  409: 'The request conflicts with the current state (an order refused, a step out of order, a closed slot)',
  410: 'What the path names existed but has expired (an invitation link)',
  413: 'The request body is larger than this route accepts',
  414: 'A path parameter is longer than any this API accepts',
  415: 'The request body is not application/json',
  422: 'The request is well formed but names something that cannot be used (see error for which)',
  429: 'Too many requests from this caller; retry after the Retry-After header',
  503: 'Postgres or Temporal is briefly unavailable, or the system is overloaded (error overloaded); retry after the Retry-After header',
} as const;
export type ErrorStatus = keyof typeof ERROR_STATUSES;

/** An error response for a route schema: JSON whatever else the route produces (an event stream refuses in JSON too). */
export function errorResponse(status: ErrorStatus) {
  return { description: ERROR_STATUSES[status], content: { 'application/json': { schema: ErrorBody } } };
}

/** The error responses a route's handler or guards answer, for its schema's `response`. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Record<S, ReturnType<typeof errorResponse>> {
  return Object.fromEntries(statuses.map((status) => [status, errorResponse(status)])) as Record<
    S,
    ReturnType<typeof errorResponse>
  >;
}
