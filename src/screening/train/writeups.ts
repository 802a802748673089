/**
 * Security write-ups that quote an injection, composed from parts (hard
 * negatives): a sentence that sets the scene, a lead that quotes the payload
 * (quotes, code, blockquote, parentheses, "such as"), and a sentence about
 * what happened or what to do. A fixed list of whole templates is learnt by
 * heart; parts teach the classifier what discussing a payload looks like.
 * Every part list is split by pool, like the injection parts.
 */
import { part, type Pool } from './attacks.js';
import type { Rng } from './rng.js';

const SCENES = [
  'Prompt injection is one of the most common attacks on tool-using agents.', 'In this post we look at how agents handle untrusted content.',
  'Our team audited twelve MCP servers last quarter.', 'This section of the threat model covers content the agent reads but did not write.',
  'We ran a red-team exercise against the support bot in March.', 'Incident summary, prepared for the security review board.',
  'Attackers increasingly hide instructions in documents that an assistant will summarise.', 'The benchmark contains 400 poisoned documents and 400 clean ones.',
  'Week 6 of the LLM security course is about indirect injection.', 'The scanner release notes list the new detection cases.',
  'A researcher reported the following issue through our bug bounty programme.', 'Guardrails are only as good as the cases they were tested on.',
  'Every tool result is untrusted input, even from internal services.', 'Here is what we learnt from reviewing a year of blocked requests.',
  'Phishing has a new audience: the AI assistant that reads your email.',
];
const LEADS = [
  'One poisoned page contained the text "{inj}"', 'A typical payload reads: `{inj}`', 'The fixture looks like this:\n\n```\n{inj}\n```\n\n',
  'We found the following hidden in a ticket:\n\n> {inj}\n\n', 'The tool description included hidden text ({inj}).', 'Payloads such as «{inj}» were the most successful.',
  'The attacker planted the string “{inj}” in a shared document.', 'Test case 42 feeds the agent an email whose body is `{inj}`.',
  'The classic example is "{inj}"', 'Example payload:\n\n    {inj}\n\n', 'The injected instruction ("{inj}") was in white text.',
  'Our filter logged variants of "{inj}" all week.', 'The sample in the dataset reads "{inj}" and is labelled malicious.',
  'Participants tried strings like `{inj}` against the bot.', 'The calendar invite description said: "{inj}"',
];
const OUTCOMES = [
  'The agent should treat such text as data, never as an instruction.', 'We reported the issue to the vendor, who fixed it within a week.',
  'Screening flagged it before the model saw it.', 'Two of the five assistants we tested followed it.', 'The fix was to require confirmation for every outgoing email.',
  'Delimiting untrusted content reduced the success rate but did not remove it.', 'Keyword filters missed the paraphrased variants.',
  'The approval step blocked the transfer.', 'Treat any such request in a tool result as suspicious and tell the user.',
  'This is why tools with side effects need least privilege.', 'The detector is evaluated on these cases and on benign controls.',
  'Nobody noticed for two days, which is the real lesson here.', 'See the appendix for the full list of payloads and results.',
  'Mitigations: spotlighting, human approval and output screening.', 'The model summarised the page and ignored the planted text.',
];

/** One write-up quoting `inj`, drawn from the `pool` part of every list. */
export function composeWriteup(r: Rng, pool: Pool, inj: string): string {
  const P = <T>(a: readonly T[]): T => r.pick(part(a, pool));
  const lead = P(LEADS).replace('{inj}', inj);
  const scene = r.chance(0.4) ? `${P(SCENES)} ${P(SCENES)}` : P(SCENES);
  return `${scene} ${lead}${lead.endsWith('\n') ? '' : ' '}${P(OUTCOMES)}`;
}
