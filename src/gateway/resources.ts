import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { Upstream } from './upstream.js';

/**
 * Resource URIs are not namespaced (clients expect the server's own URIs), so
 * reads are routed by what each server has listed, then by its URI templates.
 * A URI two servers both claim is refused rather than guessed.
 */
export class ResourceRouter {
  readonly #owners = new Map<string, string | null>();
  readonly #templates = new Map<string, UriTemplate[]>();

  constructor(private readonly upstreams: () => Upstream[]) {}

  sawResource(server: string, uri: string): void {
    const known = this.#owners.get(uri);
    if (known === undefined) this.#owners.set(uri, server);
    else if (known !== server) this.#owners.set(uri, null);
    if (this.#owners.size > 100_000) this.#owners.clear();
  }

  forget(server: string): void {
    this.#templates.delete(server);
    for (const [uri, owner] of this.#owners) if (owner === server) this.#owners.delete(uri);
  }

  async ownerOf(uri: string): Promise<string | undefined> {
    const known = this.#owners.get(uri);
    if (known !== undefined) return known ?? undefined;
    const candidates = this.upstreams().filter((u) => u.ready && u.info?.capabilities.resources);
    const matches: string[] = [];
    for (const u of candidates) {
      const templates = await this.#templatesOf(u);
      if (templates.some((t) => t.match(uri) !== null)) matches.push(u.name);
    }
    if (matches.length === 1) return matches[0];
    if (matches.length === 0 && candidates.length === 1) return candidates[0].name;
    return undefined;
  }

  async #templatesOf(u: Upstream): Promise<UriTemplate[]> {
    const cached = this.#templates.get(u.name);
    if (cached) return cached;
    const templates: UriTemplate[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const answer = await u.request('resources/templates/list', cursor ? { cursor } : {}).outcome;
      if ('error' in answer) break;
      for (const t of (answer.result.resourceTemplates ?? []) as { uriTemplate?: unknown }[]) {
        if (typeof t.uriTemplate !== 'string') continue;
        try {
          templates.push(new UriTemplate(t.uriTemplate));
        } catch {
          // A template the SDK cannot parse simply routes nothing.
        }
      }
      cursor = typeof answer.result.nextCursor === 'string' ? answer.result.nextCursor : undefined;
      if (!cursor) break;
    }
    this.#templates.set(u.name, templates);
    return templates;
  }
}
