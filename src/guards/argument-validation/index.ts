import { describeSchemaError } from '../../schema/ajv.js';
import { allow, deny, type Decision, type Guard, type Invocation, type RequestContext } from '../../pipeline/types.js';

/**
 * Arguments are checked like a parameterised query: against the tool's own
 * inputSchema (compiled once when the tool list arrived) and then against the
 * identity's argument constraints. A call that fails never reaches the upstream.
 */
export function argumentValidation(): Guard {
  return {
    name: 'argument-validation',
    onInvoke(ctx: RequestContext, inv: Invocation): Decision {
      if (inv.kind !== 'tool') return allow();
      const { tool } = inv;
      if (tool.schemaError !== undefined || !tool.validateInput) {
        return deny('INVALID_TOOL_SCHEMA', `tool ${inv.server}.${inv.name} has an input schema that cannot be compiled (${tool.schemaError ?? 'missing'}), so its arguments cannot be checked; calls are refused until the server fixes it`);
      }
      if (!tool.validateInput(inv.arguments)) {
        return deny('INVALID_ARGUMENTS', `${describeSchemaError(tool.validateInput.errors)} (tool ${inv.server}.${inv.name}); fix the call to match the tool's inputSchema`);
      }
      for (const constraint of ctx.session.identity.constraintsFor(inv.server, inv.name)) {
        if (!constraint.validate(inv.arguments)) {
          return deny(
            'ARGUMENT_CONSTRAINT',
            `${describeSchemaError(constraint.validate.errors)}: identity ${ctx.session.identity.name} may call ${inv.server}.${inv.name} only within argument_constraints "${constraint.pattern.source}"`,
          );
        }
      }
      return allow('arguments match the schema and constraints');
    },
  };
}
