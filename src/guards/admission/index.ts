import { allow, deny, type Decision, type Guard, type Invocation, type Listed, type RequestContext } from '../../pipeline/types.js';
import type { AdmissionVerdict, ItemKind } from '../../admission/control.js';

/** What the guard asks of the gateway's admission control (src/admission/control.ts). */
export interface AdmissionCheck {
  verdict(server: string, kind: ItemKind, definition: Record<string, unknown>, digest?: string): AdmissionVerdict | undefined;
  promptVerdict(server: string, name: string): AdmissionVerdict | undefined;
}

/**
 * Only what was pinned is shown and callable: a tool whose definition changed
 * since it was pinned (a rug pull), a tool that appeared later, and a
 * poisoned definition are hidden from lists and refused when called by name.
 * Identity and artifact checks happen earlier, when a server starts.
 */
export function admission(check: AdmissionCheck): Guard {
  const decide = (v: AdmissionVerdict | undefined): Decision => (v ? deny(v.code, v.reason) : allow('matches its pinned definition'));
  return {
    name: 'admission',
    onList(_ctx: RequestContext, item: Listed): Decision {
      if (item.kind === 'tool') return item.tool ? decide(check.verdict(item.server, 'tool', item.tool.definition, item.tool.digest)) : deny('TOOL_NOT_PINNED', 'the tool has no catalog entry to compare with the lock');
      if (item.kind === 'prompt' || item.kind === 'resource_template') {
        return item.definition ? decide(check.verdict(item.server, item.kind, item.definition as Record<string, unknown>)) : deny('NOT_PINNED', 'the item carries no definition to compare with the lock');
      }
      return allow('resources are read through pinned servers and screened on the way back');
    },
    onInvoke(_ctx: RequestContext, invocation: Invocation): Decision {
      if (invocation.kind === 'tool') return decide(check.verdict(invocation.server, 'tool', invocation.tool.definition, invocation.tool.digest));
      if (invocation.kind === 'prompt') return decide(check.promptVerdict(invocation.server, invocation.name));
      return allow('resources are read through pinned servers and screened on the way back');
    },
  };
}
