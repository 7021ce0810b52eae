// Python's ast.literal_eval for the values of an Ansible INI inventory (Ansible runs every `key=value`
// there through it): numbers, True/False/None, quoted strings, lists, tuples, dicts and sets. What is not
// a literal stays the text it was, as in Ansible.

class NotALiteral extends Error {}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };

function parse(text: string): unknown {
  let i = 0;
  const space = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (): never => {
    throw new NotALiteral();
  };
  const str = (): string => {
    let out = '';
    // Adjacent literals concatenate ('a' 'b' → 'ab'), as in Python.
    while (i < text.length && /['"]/.test(text[i]) || (i < text.length - 1 && /[rRbBuU]/.test(text[i]) && /['"]/.test(text[i + 1]))) {
      let raw = false;
      if (/[rRbBuU]/.test(text[i])) raw = /[rR]/.test(text[i++]);
      const q = text.startsWith(text[i].repeat(3), i) ? text[i].repeat(3) : text[i];
      i += q.length;
      for (;;) {
        if (i >= text.length) fail();
        if (text.startsWith(q, i)) {
          i += q.length;
          break;
        }
        const c = text[i++];
        if (c === '\n' && q.length === 1) fail();
        if (c === '\\' && !raw) {
          const e = text[i++];
          if (e === undefined) fail();
          out += ESCAPES[e] ?? `\\${e}`;
        } else out += c;
      }
      space();
    }
    return out;
  };
  const number = (): number => {
    const m = /^[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][-+]?\d+)?|\.\d[\d_]*(?:[eE][-+]?\d+)?)/.exec(text.slice(i));
    if (!m) fail();
    const t = m![0].replace(/_/g, '');
    // Python 3 rejects decimal integers with leading zeros (0777).
    if (/^[-+]?0\d/.test(t) && !/[.eE]/.test(t)) fail();
    i += m![0].length;
    const sign = t.startsWith('-') ? -1 : 1;
    const body = t.replace(/^[-+]/, '');
    if (/^0[xX]/.test(body)) return sign * parseInt(body.slice(2), 16);
    if (/^0[oO]/.test(body)) return sign * parseInt(body.slice(2), 8);
    if (/^0[bB]/.test(body)) return sign * parseInt(body.slice(2), 2);
    return sign * Number(body);
  };
  const seq = (close: string): unknown[] => {
    const items: unknown[] = [];
    space();
    while (text[i] !== close) {
      items.push(value());
      space();
      if (text[i] === ',') {
        i++;
        space();
      } else if (text[i] !== close) fail();
    }
    i++;
    return items;
  };
  const value = (): unknown => {
    space();
    const c = text[i];
    if (c === undefined) return fail();
    if (/['"]/.test(c) || (/[rRbBuU]/.test(c) && /['"]/.test(text[i + 1] ?? ''))) return str();
    if (c === '[') {
      i++;
      return seq(']');
    }
    if (c === '(') {
      i++;
      space();
      const start = i;
      const items = seq(')');
      // (x) is x, not a tuple; (x,) and () are tuples (JSON shows them as lists, as Ansible does).
      if (items.length === 1 && !/,\s*\)$/.test(text.slice(start, i))) return items[0];
      return items;
    }
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') {
        i++;
        return {};
      }
      const first = value();
      space();
      if (text[i] !== ':') {
        // A set: JSON has no sets; Ansible prints them as lists.
        const rest = text[i] === ',' ? (i++, seq('}')) : (text[i] === '}' ? (i++, []) : fail());
        return [first, ...rest];
      }
      const out: Record<string, unknown> = {};
      let key = first;
      for (;;) {
        space();
        if (text[i++] !== ':') fail();
        out[String(key)] = value();
        space();
        if (text[i] === ',') {
          i++;
          space();
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        key = value();
      }
    }
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (text.startsWith(word, i) && !/\w/.test(text[i + word.length] ?? '')) {
        i += word.length;
        return v;
      }
    }
    return number();
  };
  const out = value();
  space();
  if (i < text.length) fail();
  return out;
}

/** The value Ansible gives an INI `key=value`: a Python literal when it is one, else the text itself. */
export function pythonLiteral(text: string): unknown {
  try {
    return parse(text);
  } catch (err: unknown) {
    if (err instanceof NotALiteral) return text;
    throw err;
  }
}
