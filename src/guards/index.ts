import type { Guard } from '../pipeline/types.js';
import { sessionExpiry } from './session-expiry/index.js';
import { authorisation } from './authorisation/index.js';
import { argumentValidation } from './argument-validation/index.js';
import { approval } from './approval/index.js';

export { sessionExpiry, authorisation, argumentValidation, approval };

/**
 * The default chain, in the order a call meets it. Approval comes last so a
 * human is only ever asked about a call that is otherwise allowed and valid.
 */
export function defaultGuards(): Guard[] {
  return [sessionExpiry(), authorisation(), argumentValidation(), approval()];
}
