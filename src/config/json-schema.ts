import { z } from 'zod';
import { configSchema } from './schema.js';

/** The published JSON Schema is generated from the same zod schema the loader uses, so they cannot drift. */
export function configJsonSchema(): Record<string, unknown> {
  return { title: 'Portcullis configuration', ...z.toJSONSchema(configSchema, { io: 'input' }) };
}
