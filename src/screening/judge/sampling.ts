/**
 * Judge backend that asks the calling agent's own client for the completion
 * (MCP sampling/createMessage), for deployments with no model endpoint of
 * their own. The client may show the request to its user first, so its
 * latency can be a human's: the judge's timeout bounds it.
 */
import { JudgeError } from './prompt.js';
import type { JudgeBackend } from './index.js';

const MAX_TOKENS = 64;

export function samplingBackend(): JudgeBackend {
  return {
    name: 'sampling',
    async complete(prompt, { signal, timeoutMs, sample }) {
      if (!sample) throw new JudgeError('unavailable', 'the client did not declare the sampling capability, so it cannot judge; use an openai backend, or a client that offers sampling');
      let result: Record<string, unknown>;
      try {
        result = await sample(
          {
            systemPrompt: prompt.system,
            messages: [{ role: 'user', content: { type: 'text', text: prompt.user } }],
            // Other servers' context would put more untrusted text next to the judged one.
            includeContext: 'none',
            temperature: 0,
            maxTokens: MAX_TOKENS,
          },
          { timeoutMs, signal },
        );
      } catch (error) {
        throw new JudgeError('unavailable', `the client refused or failed the sampling request (${(error as Error).message})`);
      }
      const content = result.content as { type?: unknown; text?: unknown } | undefined;
      if (content?.type !== 'text' || typeof content.text !== 'string') throw new JudgeError('malformed', 'the client answered the sampling request without text content');
      return content.text;
    },
  };
}
