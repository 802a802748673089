import type { ProcessSpec } from '../transports/stdio-process.js';
import type { PreparedSandbox, SandboxBackend, SandboxCheck } from './types.js';

/**
 * No isolation: the server runs as a plain child process. The policy is
 * ignored, which is why the config spells this `sandbox: none` (warned on
 * every start, refused in production) rather than letting a backend
 * silently degrade to it.
 */
export class NoSandbox implements SandboxBackend {
  readonly name = 'none';
  async check(): Promise<SandboxCheck> {
    return { ok: true, detail: 'no isolation' };
  }
  async prepare(_server: unknown, _policy: unknown, spec: ProcessSpec): Promise<PreparedSandbox> {
    return { spec, dispose: async () => {}, describe: { backend: this.name, isolation: 'none' } };
  }
}
