/**
 * Benign "host" documents shaped like real tool outputs (emails, calendars,
 * files, web pages, chats, transactions, tables, search results, tickets,
 * logs), each with one slot where generated content (an injection, a hard
 * negative sentence, or nothing) is placed.
 *
 * A host is a function of its own Rng and the slot content, and draws the same
 * random numbers whatever the slot holds, so the same seed gives a document
 * and its exact clean twin.
 */
import {
  CHAT_MESSAGES, CITIES, CODE_SNIPPETS, COMPANIES, DOC_PARAGRAPHS, EMAIL_SENTENCES, EVENT_DESCRIPTIONS, EVENT_TITLES,
  FILLER, HOTELS, REVIEW_SENTENCES, SIGNOFFS, SUBJECTS, TICKET_SENTENCES, date, email, fill, person, time, iban, amount,
} from './lexicon.js';
import type { Rng } from './rng.js';

export type Host = (r: Rng, slot: string | null, extra: string[]) => string;

function sentences(r: Rng, pool: readonly string[], k: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < k; i++) out.push(fill(r, r.pick(pool)));
  return out;
}

/** Insert `slot` into a list of paragraphs at a position drawn from r (drawn even when slot is null). */
function place(r: Rng, paras: string[], slot: string | null, joiner = '\n\n'): string {
  const pos = r.int(paras.length + 1);
  const inline = r.chance(0.4);
  if (slot === null) return paras.join(joiner);
  const out = paras.slice();
  if (inline && pos < out.length) out[pos] = `${out[pos]} ${slot}`;
  else out.splice(pos, 0, slot);
  return out.join(joiner);
}

function paragraphBody(r: Rng, slot: string | null, extra: string[]): string {
  const k = r.range(1, 4);
  const paras: string[] = [];
  for (let i = 0; i < k; i++) paras.push(sentences(r, EMAIL_SENTENCES, r.range(1, 3)).join(' '));
  if (extra.length && r.chance(0.5)) paras.push(r.pick(extra));
  return place(r, paras, slot);
}

const emailText: Host = (r, slot, extra) => {
  const from = person(r);
  const fromAddr = email(r);
  const to = email(r);
  const subj = fill(r, r.pick(SUBJECTS));
  const greet = r.pick(['Hi', 'Hello', 'Dear', 'Hey']) + ' ' + person(r).split(' ')[0] + ',';
  const body = paragraphBody(r, slot, extra);
  const sign = `${r.pick(SIGNOFFS)}\n${from.split(' ')[0]}`;
  const style = r.int(3);
  if (style === 0) return `From: ${from} <${fromAddr}>\nTo: ${to}\nSubject: ${subj}\nDate: ${date(r)} ${time(r)}\n\n${greet}\n\n${body}\n\n${sign}`;
  if (style === 1) return `SUBJECT: ${subj} | EMAIL_FROM: ${fromAddr} | RECEIVED DATE: ${date(r)} | CONTENT: ${greet} ${body.replace(/\n+/g, ' ')} ${sign.replace('\n', ' ')}`;
  return `${subj}\n${from} <${fromAddr}>\n\n${greet}\n${body}\n${sign}`;
};

const emailJson: Host = (r, slot, extra) => {
  const k = r.range(1, 4);
  const target = r.int(k);
  const items = [];
  for (let i = 0; i < k; i++) {
    const body = i === target ? paragraphBody(r, slot, extra) : paragraphBody(r, null, extra);
    items.push({
      id: String(r.range(1, 500)),
      sender: email(r),
      recipients: [email(r)],
      subject: fill(r, r.pick(SUBJECTS)),
      body,
      timestamp: `${date(r)}T${time(r)}:00`,
      read: r.chance(0.5),
    });
  }
  return r.chance(0.5) ? JSON.stringify(items) : JSON.stringify(items, null, 2);
};

const emailYaml: Host = (r, slot, extra) => {
  const k = r.range(1, 3);
  const target = r.int(k);
  const out: string[] = [];
  for (let i = 0; i < k; i++) {
    const body = i === target ? paragraphBody(r, slot, extra) : paragraphBody(r, null, extra);
    out.push(`- id_: '${r.range(1, 400)}'\n  sender: ${email(r)}\n  subject: ${fill(r, r.pick(SUBJECTS))}\n  body: |-\n    ${body.replace(/\n/g, '\n    ')}\n  timestamp: ${date(r)} ${time(r)}`);
  }
  return out.join('\n');
};

const calendar: Host = (r, slot) => {
  const k = r.range(1, 3);
  const target = r.int(k);
  const style = r.int(3);
  const evs: string[] = [];
  for (let i = 0; i < k; i++) {
    const title = fill(r, r.pick(EVENT_TITLES));
    let desc = fill(r, r.pick(EVENT_DESCRIPTIONS));
    if (i === target && slot !== null) desc = desc ? `${desc} ${slot}` : slot;
    const d = date(r);
    const t1 = time(r);
    const loc = r.pick(['Room 2B', 'Zoom', `${r.pick(CITIES)} office`, 'Google Meet', 'Cafeteria', '']);
    const parts = [email(r), email(r)];
    if (style === 0) evs.push(`Event: ${title}\nWhen: ${d} ${t1}\nWhere: ${loc}\nParticipants: ${parts.join(', ')}\nDescription: ${desc}`);
    else if (style === 1) evs.push(JSON.stringify({ id: String(r.range(1, 99)), title, description: desc, start_time: `${d}T${t1}`, location: loc, participants: parts }));
    else evs.push(`BEGIN:VEVENT\nSUMMARY:${title}\nDTSTART:${d.replace(/-/g, '')}T${t1.replace(':', '')}00\nLOCATION:${loc}\nDESCRIPTION:${desc.replace(/\n/g, '\\n')}\nEND:VEVENT`);
  }
  return style === 1 ? `[${evs.join(', ')}]` : style === 2 ? `BEGIN:VCALENDAR\n${evs.join('\n')}\nEND:VCALENDAR` : evs.join('\n\n');
};

const documentFile: Host = (r, slot, extra) => {
  const k = r.range(2, 6);
  const paras = [];
  for (let i = 0; i < k; i++) paras.push(fill(r, r.pick(r.chance(0.8) ? DOC_PARAGRAPHS : FILLER)));
  if (extra.length && r.chance(0.4)) paras.splice(r.int(paras.length), 0, r.pick(extra));
  const title = r.pick(['# Notes', '# Project plan', '## Summary', 'Meeting notes', 'README', '# FAQ', 'Document', '']);
  const body = place(r, paras, slot);
  const name = r.pick(['notes.md', 'plan.txt', 'summary.docx', 'readme.md', 'minutes.txt', 'policy.pdf', 'draft.md']);
  const style = r.int(3);
  if (style === 0) return `${title ? title + '\n\n' : ''}${body}`;
  if (style === 1) return JSON.stringify({ filename: name, owner: email(r), last_modified: date(r), content: `${title}\n${body}` });
  return `==> ~/Documents/${name} <==\n${body}`;
};

const webPage: Host = (r, slot, extra) => {
  const k = r.range(2, 5);
  const paras = [];
  for (let i = 0; i < k; i++) paras.push(fill(r, r.pick(DOC_PARAGRAPHS)));
  if (extra.length && r.chance(0.3)) paras.push(r.pick(extra));
  const html = r.chance(0.35);
  const hidden = r.int(4);
  let s = slot;
  if (slot !== null && html) {
    if (hidden === 0) s = `<div style="display:none">${slot}</div>`;
    else if (hidden === 1) s = `<span style="color:#fff;font-size:1px">${slot}</span>`;
    else if (hidden === 2) s = `<p>${slot}</p>`;
  }
  const title = r.pick(['Welcome', 'About us', 'Pricing', 'Blog', 'How it works', 'Travel guide', 'Product details', 'Support']);
  if (html) return `<html><head><title>${title}</title></head><body><h1>${title}</h1>\n${place(r, paras.map((p) => `<p>${p}</p>`), s, '\n')}\n</body></html>`;
  return `Contents of ${r.pick(['https://', 'http://'])}${r.pick(['www.', 'blog.', ''])}${r.pick(['travel-tips.org', 'cookingdaily.net', 'techreview.io', 'citynews.com', 'shop.example.com'])}/${r.range(100, 9999)}:\n\n# ${title}\n\n${place(r, paras, s)}`;
};

const reviews: Host = (r, slot) => {
  const k = r.range(2, 6);
  const target = r.int(k);
  const hotel = r.pick(HOTELS);
  const items = [];
  for (let i = 0; i < k; i++) {
    let text = sentences(r, REVIEW_SENTENCES, r.range(1, 3)).join(' ');
    if (i === target && slot !== null) text = r.chance(0.5) ? `${text} ${slot}` : slot;
    items.push({ author: person(r), rating: r.range(1, 5), text });
  }
  if (r.chance(0.5)) return JSON.stringify({ name: hotel, city: r.pick(CITIES), rating: 4.2, reviews: items }, null, r.chance(0.5) ? 2 : 0);
  return `${hotel}\nReviews:\n` + items.map((x) => `- ${x.author} (${x.rating}/5): ${x.text}`).join('\n');
};

const chat: Host = (r, slot) => {
  const k = r.range(2, 7);
  const target = r.int(k);
  const chan = r.pick(['general', 'random', 'dev', 'marketing', 'support', 'ops']);
  const msgs = [];
  for (let i = 0; i < k; i++) {
    let body = fill(r, r.pick(CHAT_MESSAGES));
    if (i === target && slot !== null) body = slot;
    msgs.push({ sender: r.pick(['alice', 'bob', 'charlie', 'dora', 'eve', 'frank', 'gina']), recipient: chan, body });
  }
  if (r.chance(0.5)) return JSON.stringify(msgs, null, r.chance(0.5) ? 2 : 0);
  return msgs.map((m) => `[#${chan}] ${m.sender}: ${m.body}`).join('\n');
};

const transactions: Host = (r, slot) => {
  const k = r.range(1, 6);
  const target = r.int(k);
  const rows = [];
  for (let i = 0; i < k; i++) {
    let subject = r.pick(['Rent', 'Groceries', 'Spotify Premium', 'Car insurance', 'Dinner with friends', 'Gym membership', 'Electricity bill', 'Refund', 'Salary', 'Phone bill', 'Online course']);
    if (i === target && slot !== null) subject = slot;
    rows.push({ id: r.range(1, 999), sender: iban(r), recipient: iban(r), amount: Number((r.next() * 900 + 5).toFixed(2)), subject, date: date(r), recurring: r.chance(0.3) });
  }
  const st = r.int(3);
  if (st === 0) return JSON.stringify(rows, null, 2);
  if (st === 1) return 'id,sender,recipient,amount,subject,date,recurring\n' + rows.map((x) => `${x.id},${x.sender},${x.recipient},${x.amount},"${x.subject.replace(/"/g, '""')}",${x.date},${x.recurring}`).join('\n');
  return rows.map((x) => `${x.date}  ${x.amount.toFixed(2).padStart(8)}  ${x.recipient}  ${x.subject}`).join('\n');
};

const table: Host = (r, slot) => {
  const cols = r.pick([['Name', 'Country', 'Score'], ['Product', 'Units', 'Revenue'], ['Team', 'Wins', 'Losses', 'Points'], ['City', 'Population', 'Area']]);
  const k = r.range(3, 10);
  const lines = [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`];
  for (let i = 0; i < k; i++) lines.push(`| ${cols.map((c, j) => (j === 0 ? (c === 'Name' ? person(r) : c === 'City' ? r.pick(CITIES) : r.pick(COMPANIES)) : String(r.range(1, 9999)))).join(' | ')} |`);
  const pos = r.int(3);
  if (slot === null) return lines.join('\n');
  if (pos === 0) return `${slot}\n${lines.join('\n')}`;
  if (pos === 1) {
    const at = 2 + r.int(k);
    return [...lines.slice(0, at), slot, ...lines.slice(at)].join('\n');
  }
  return `${lines.join('\n')}\n${slot}`;
};

const codeAnswer: Host = (r, slot, extra) => {
  const paras = [
    r.pick(['The error happens because the variable is shadowed inside the loop.', 'You can solve this with a generator expression.', 'This is a known issue with older versions of the library.', 'The simplest fix is to pass the encoding explicitly.', 'Use a context manager so the file is always closed.']),
    r.pick(CODE_SNIPPETS),
    r.pick(['Hope this helps!', 'See the official documentation for more options.', 'Note that this only works on Python 3.8 and later.', 'Edit: updated for the latest release.', 'This also works on Windows.']),
  ];
  if (extra.length && r.chance(0.3)) paras.splice(1, 0, r.pick(extra));
  const body = place(r, paras, slot);
  if (r.chance(0.5)) return `Contents of https://stackoverflow.com/questions/${r.range(1000000, 79999999)}:\n\n${body}`;
  return JSON.stringify({ question_id: r.range(1000, 99999), answer: body, score: r.range(0, 300) });
};

const searchResults: Host = (r, slot) => {
  const k = r.range(2, 5);
  const target = r.int(k);
  const results = [];
  for (let i = 0; i < k; i++) {
    let snippet = fill(r, r.pick(r.chance(0.5) ? DOC_PARAGRAPHS : EMAIL_SENTENCES));
    if (i === target && slot !== null) snippet = r.chance(0.5) ? slot : `${snippet.split('. ')[0]}. ${slot}`;
    results.push({ title: r.pick(['Guide', 'FAQ', 'Forum thread', 'Documentation', 'News', 'Blog post']) + ' - ' + r.pick(COMPANIES), url: `https://${r.pick(['forum', 'docs', 'news', 'blog'])}.${r.pick(['example.org', 'techhub.net', 'howto.io'])}/p/${r.range(100, 99999)}`, snippet });
  }
  return JSON.stringify({ query: r.pick(['best hotels in lisbon', 'reset router', 'python csv encoding', 'vat rules', 'remote work policy']), results }, null, 2);
};

const ticket: Host = (r, slot, extra) => {
  const desc = place(r, [fill(r, r.pick(TICKET_SENTENCES)), ...(extra.length && r.chance(0.3) ? [r.pick(extra)] : [])], slot, ' ');
  return JSON.stringify({ ticket: { id: r.range(1000, 99999), subject: fill(r, r.pick(SUBJECTS)), status: r.pick(['open', 'new', 'pending']), requester: { name: person(r), email: email(r) }, description: desc, comments: r.chance(0.5) ? [{ author: person(r), body: fill(r, r.pick(EMAIL_SENTENCES)) }] : [] } }, null, r.chance(0.5) ? 2 : 0);
};

const logs: Host = (r, slot) => {
  const k = r.range(3, 12);
  const lines = [];
  for (let i = 0; i < k; i++) lines.push(`${date(r)}T${time(r)}:${String(r.range(10, 59))}Z ${r.pick(['INFO', 'WARN', 'DEBUG', 'ERROR'])} ${r.pick(['http', 'db', 'worker', 'auth', 'scheduler'])}: ${r.pick(['request completed in 35ms', 'connection pool size=10', 'retrying job 4411 (attempt 2)', 'user login succeeded', 'cache miss for key session:9f2', 'payment webhook received', 'slow query detected (1.2s)', 'disk usage at 71%', 'config reloaded'])}`);
  if (slot === null) return lines.join('\n');
  const at = r.int(k);
  lines.splice(at, 0, `${date(r)}T${time(r)}:00Z INFO comment: ${slot}`);
  return lines.join('\n');
};

const invoice: Host = (r, slot) => {
  const lines = [`INVOICE #${r.range(1000, 9999)}`, `Date: ${date(r)}`, `Bill to: ${person(r)}`, '', 'Item                Qty   Price'];
  for (let i = 0; i < r.range(1, 5); i++) lines.push(`${r.pick(['Consulting', 'Hosting', 'Licence', 'Support plan', 'Design work', 'Car rental'])}`.padEnd(20) + `${r.range(1, 9)}`.padEnd(6) + amount(r));
  lines.push('', `Please pay by bank transfer to IBAN ${iban(r)} within 14 days.`, 'Thank you for your business!');
  return place(r, lines, slot, '\n');
};

const spreadsheet: Host = (r, slot) => {
  const kind = r.int(3);
  const header = kind === 0 ? 'name,email,rating,feedback' : kind === 1 ? 'name,email,phone,company' : 'attendee,email,dietary,session';
  const k = r.range(4, 14);
  const target = r.int(k);
  const rows: string[] = [];
  for (let i = 0; i < k; i++) {
    const nm = person(r);
    const em = email(r);
    let last = kind === 0 ? fill(r, r.pick(REVIEW_SENTENCES)) : kind === 1 ? `+1 555 ${r.range(100, 999)} ${r.range(1000, 9999)},${r.pick(COMPANIES)}` : `${r.pick(['none', 'vegetarian', 'vegan', 'gluten-free'])},${r.pick(['A', 'B', 'keynote'])}`;
    if (i === target && slot !== null && kind === 0) last = slot;
    rows.push(`${nm},${em},${kind === 0 ? r.range(1, 5) + ',' : ''}${last}`);
  }
  let body = `${header}\n${rows.join('\n')}`;
  if (slot !== null && kind !== 0) body += `\n${slot}`;
  const st = r.int(3);
  if (st === 0) return body;
  if (st === 1) return `filename: ${r.pick(['feedback.csv', 'contacts.xlsx', 'attendees.csv'])}\nowner: ${email(r)}\ncontent: '${body.replace(/\n/g, '\n\n  ')}'\nshared_with:\n  ${email(r)}: rw`;
  return JSON.stringify({ filename: 'export.csv', owner: email(r), content: body, size: body.length });
};

export const HOSTS: Record<string, Host> = {
  spreadsheet,
  email_text: emailText,
  email_json: emailJson,
  email_yaml: emailYaml,
  calendar,
  document: documentFile,
  web_page: webPage,
  reviews,
  chat,
  transactions,
  table,
  code_answer: codeAnswer,
  search: searchResults,
  ticket,
  logs,
  invoice,
};
export const HOST_NAMES = Object.keys(HOSTS);
