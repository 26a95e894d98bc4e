/** One parameter of a workflow's input spec text ("a, b=1, c='x'"). */
export interface InputParam {
  name: string;
  required: boolean;
  defaultText: string; // as written in the spec
}

/** Split on commas outside quotes and brackets. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < s.length) cur += s[++i];
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

export function parseInputSpec(spec: string | null | undefined): InputParam[] {
  if (!spec) return [];
  return splitTop(spec).map((p) => {
    const eq = p.indexOf('=');
    if (eq < 0) return { name: p.trim(), required: true, defaultText: '' };
    return { name: p.slice(0, eq).trim(), required: false, defaultText: p.slice(eq + 1).trim() };
  });
}

/** A field's text as a value: JSON when it parses, a single-quoted string unquoted, else the text. */
export function fieldValue(text: string): unknown {
  const t = text.trim();
  try {
    return JSON.parse(t);
  } catch {
    if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1);
    return text;
  }
}
