import { z } from 'zod';

/** The success half of the seed's response envelope: `{ success: true, data }`. */
export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data });
}

export type SuccessEnvelope<T> = { success: true; data: T };
