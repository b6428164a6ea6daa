import type { Reply } from './types.ts';

/**
 * Plain-text rendering of a reply, for chats without markup (IRC, XMPP):
 * code blocks as their lines. `maxLines` bounds what one answer may post
 * (IRC servers flood-kick); the cut is said in a last line.
 */
export function plainLines(reply: Reply, maxLines: number): string[] {
  const lines: string[] = [];
  for (const b of reply.blocks) lines.push(...b.text.split('\n'));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, Math.max(1, maxLines - 1));
  kept.push(`… ${lines.length - kept.length} more lines not shown`);
  return kept;
}

/** Markdown-style rendering (Slack mrkdwn, XMPP message styling XEP-0393): code blocks fenced with ```. */
export function fencedText(reply: Reply): string {
  return reply.blocks.map((b) => (b.kind === 'code' ? `\`\`\`\n${b.text}\n\`\`\`` : b.text)).join('\n');
}
