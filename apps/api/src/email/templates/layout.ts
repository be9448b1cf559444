/**
 * The building blocks every email is made of, and the one place that turns them into HTML and plain
 * text. Templates only choose blocks; escaping and the shared layout live here, so no template can
 * forget either.
 */

/** Product identity shown in every email. */
export interface Brand {
  productName: string;
  /** The app's public URL, linked from the footer. */
  appUrl: string;
}

export type Block =
  | { kind: 'paragraph'; text: string }
  /** The email's main action: a button in HTML, the label and raw link in text. */
  | { kind: 'button'; label: string; url: string }
  /** A secondary link, shown inline. */
  | { kind: 'link'; label: string; url: string }
  /** Small print under the content (why you got this, what to do if it was not you). */
  | { kind: 'note'; text: string };

export interface EmailContent {
  subject: string;
  /** The preview line mail clients show beside the subject. */
  preheader: string;
  blocks: Block[];
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/**
 * Only absolute http(s) links go into an email: a `javascript:` or relative URL here is a bug in the
 * caller, and is refused rather than sent.
 */
export function safeUrl(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error('email link is not an absolute URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error('email link must be http or https');
  }
  return parsed.toString();
}

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const TEXT_STYLE = `margin:0 0 16px;font-family:${FONT};font-size:15px;line-height:1.6;color:#27272a;`;
const NOTE_STYLE = `margin:0 0 12px;font-family:${FONT};font-size:13px;line-height:1.5;color:#71717a;`;
const LINK_STYLE = 'color:#2563eb;text-decoration:underline;word-break:break-all;';

function blockHtml(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
      return `<p style="${TEXT_STYLE}">${escapeHtml(block.text)}</p>`;
    case 'note':
      return `<p style="${NOTE_STYLE}">${escapeHtml(block.text)}</p>`;
    case 'link': {
      const url = escapeHtml(safeUrl(block.url));
      return `<p style="${TEXT_STYLE}"><a href="${url}" style="${LINK_STYLE}">${escapeHtml(block.label)}</a></p>`;
    }
    case 'button': {
      const url = escapeHtml(safeUrl(block.url));
      return [
        '<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 24px;"><tr>',
        '<td style="border-radius:6px;background:#18181b;">',
        `<a href="${url}" style="display:inline-block;padding:12px 22px;font-family:${FONT};font-size:15px;`,
        `font-weight:600;color:#ffffff;text-decoration:none;border-radius:6px;">${escapeHtml(block.label)}</a>`,
        '</td></tr></table>',
        `<p style="${NOTE_STYLE}">If the button does not work, copy this link into your browser:<br>`,
        `<a href="${url}" style="${LINK_STYLE}">${url}</a></p>`,
      ].join('');
    }
  }
}

function blockText(block: Block): string {
  switch (block.kind) {
    case 'paragraph':
    case 'note':
      return block.text;
    case 'link':
    case 'button':
      return `${block.label}:\n${safeUrl(block.url)}`;
  }
}

/** Renders content into the shared layout, as HTML and as plain text. */
export function renderLayout(content: EmailContent, brand: Brand): RenderedEmail {
  const product = escapeHtml(brand.productName);
  const appUrl = escapeHtml(safeUrl(brand.appUrl));
  const html = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>${escapeHtml(content.subject)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f4f4f5;">',
    `<div style="display:none;max-height:0;overflow:hidden;opacity:0;">${escapeHtml(content.preheader)}</div>`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f5;">',
    '<tr><td align="center" style="padding:32px 16px;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" ',
    'style="max-width:560px;background:#ffffff;border:1px solid #e4e4e7;border-radius:8px;">',
    `<tr><td style="padding:28px 32px 8px;font-family:${FONT};font-size:18px;font-weight:700;color:#18181b;">`,
    `${product}</td></tr>`,
    `<tr><td style="padding:16px 32px 16px;">${content.blocks.map(blockHtml).join('')}</td></tr>`,
    '</table>',
    `<p style="margin:16px 0 0;font-family:${FONT};font-size:12px;color:#a1a1aa;">`,
    `Sent by <a href="${appUrl}" style="color:#a1a1aa;">${product}</a></p>`,
    '</td></tr></table></body></html>',
  ].join('');
  const text = [...content.blocks.map(blockText), `— ${brand.productName}\n${safeUrl(brand.appUrl)}`].join(
    '\n\n',
  );
  return { subject: content.subject, html, text: `${text}\n` };
}
