/**
 * Well-known MCP server packages that typosquat checks compare against. A name
 * here is never flagged itself; a near miss of one is. Keep the list to
 * packages known to exist: a wrong entry here would make its real neighbours
 * look like squats.
 */

const REFERENCE = [
  'everything', 'filesystem', 'memory', 'github', 'gitlab', 'google-maps', 'postgres', 'slack', 'puppeteer',
  'brave-search', 'sequential-thinking', 'redis', 'aws-kb-retrieval', 'everart', 'gdrive',
];

/** npm packages: the official reference servers, the SDK and tooling, and widely used community servers. */
export const KNOWN_NPM_PACKAGES: readonly string[] = [
  ...REFERENCE.map((n) => `@modelcontextprotocol/server-${n}`),
  '@modelcontextprotocol/sdk',
  '@modelcontextprotocol/inspector',
  '@modelcontextprotocol/create-server',
  '@playwright/mcp',
  '@upstash/context7-mcp',
  '@notionhq/notion-mcp-server',
  '@supabase/mcp-server-supabase',
  '@cloudflare/mcp-server-cloudflare',
  'mcp-remote',
  'portcullis',
];

/** PyPI packages (run with `uvx` / `pipx run`): the Python reference servers and the SDKs. */
export const KNOWN_PYPI_PACKAGES: readonly string[] = [
  'mcp-server-fetch', 'mcp-server-git', 'mcp-server-time', 'mcp-server-sqlite', 'mcp-server-sentry', 'mcp', 'fastmcp',
];
