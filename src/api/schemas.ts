// Schemas shared by several routes.
import { Type } from 'typebox';

export const ErrorBody = Type.Object({
  error: Type.String({ examples: ['not_found'] }),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Latitude = Type.Number({ minimum: -90, maximum: 90 });
export const Longitude = Type.Number({ minimum: -180, maximum: 180 });
export const Cents = Type.Integer({ minimum: 0 });
