import { describeSchemaError } from '../../schema/ajv.js';
import { allow, deny, type Guard, type Invocation, type RequestContext, type ResultDecision } from '../../pipeline/types.js';

/**
 * A tool that declares an outputSchema promises structured results in that
 * shape, and clients act on them as data. The result is checked against the
 * schema as the catalog holds it (compiled once when the tool list arrived); a
 * result that does not match is refused, not passed through. Tool errors
 * (`isError`) carry no structured content and are not checked.
 */
export function outputSchema(): Guard {
  return {
    name: 'output-schema',
    onResult(_ctx: RequestContext, inv: Invocation, result: Record<string, unknown>): ResultDecision {
      if (inv.kind !== 'tool' || inv.tool.definition.outputSchema === undefined || result.isError === true) return allow();
      const { tool } = inv;
      const what = `tool ${inv.server}.${inv.name}`;
      if (tool.outputSchemaError !== undefined || !tool.validateOutput) {
        return deny('OUTPUT_SCHEMA_MISMATCH', `${what} declares an outputSchema that cannot be compiled (${tool.outputSchemaError ?? 'missing'}), so its result cannot be checked and was withheld; the server must fix its schema`);
      }
      if (result.structuredContent === undefined) {
        return deny('OUTPUT_SCHEMA_MISMATCH', `${what} declares an outputSchema but returned no structuredContent, so the result was withheld; the server must return structured results as it declares`);
      }
      if (!tool.validateOutput(result.structuredContent)) {
        return deny('OUTPUT_SCHEMA_MISMATCH', `${describeSchemaError(tool.validateOutput.errors, 'structuredContent')} (${what} declares it in its outputSchema), so the result was withheld; the server must return what its outputSchema says`);
      }
      return allow('structuredContent matches the outputSchema');
    },
  };
}
