import type { Guard } from '../pipeline/types.js';
import { sessionExpiry } from './session-expiry/index.js';
import { authorisation } from './authorisation/index.js';
import { admission, type AdmissionCheck } from './admission/index.js';
import { argumentValidation } from './argument-validation/index.js';
import { approval } from './approval/index.js';
import { rateLimit } from './rate-limit/index.js';
import { flowControl } from './flow-control/index.js';
import { outputSchema } from './output-schema/index.js';
import { outputScreening } from './output-screening/index.js';
import { RiskModel } from '../risk/model.js';
import type { Config } from '../config/schema.js';

export { sessionExpiry, authorisation, admission, argumentValidation, approval, rateLimit, flowControl, outputSchema, outputScreening };

/**
 * The default chain, in the order a call meets it. Rate limits come first so
 * even refused calls count; flow control runs on calls that are allowed and
 * valid; approval comes last so a human is only ever asked about a call that is
 * otherwise allowed, valid and not a leak (and sees its arguments with secrets
 * redacted). On the way back a result is checked against the tool's
 * outputSchema, then flow control labels the session with what the server
 * sent (also when screening then withholds it), then output screening decides
 * what the agent reads. With a config, tools are rated with its risk and flow
 * settings (risk gates, labels, flow rules) and screened by its screening policy.
 * Admission (the lock) comes after authorisation, so an identity that may not
 * use a tool learns nothing about its pin.
 */
export function defaultGuards(config?: Config, options: { admission?: AdmissionCheck } = {}): Guard[] {
  const risk = new RiskModel(config);
  return [
    sessionExpiry(),
    rateLimit(),
    authorisation(),
    ...(options.admission ? [admission(options.admission)] : []),
    argumentValidation(),
    outputSchema(),
    flowControl({ risk, policy: config?.flow }),
    outputScreening({ risk, policy: config?.screening }),
    approval({ risk }),
  ];
}
