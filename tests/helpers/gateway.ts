// Builds gateways against simulators for tests.
import { EndpointSchema, type Endpoint } from '../../pipeline/config/endpoint-schema.ts';
import type { z } from 'zod';

export function endpoint(over: z.input<typeof EndpointSchema>): Endpoint {
  return EndpointSchema.parse(over);
}

/** Fast backoff so retry tests do not wait seconds. */
export const fastBackoff = { initialMs: 5, maxMs: 50, multiplier: 2, jitter: 0 };
