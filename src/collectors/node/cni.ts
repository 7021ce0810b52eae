/** `x NAME` / `- NAME` lines: the files in /opt/cni/bin and whether each is executable. */
export function parseCniBinaries(text: string): { name: string; executable: boolean }[] {
  return text
    .split('\n')
    .map((line) => /^([x-]) (.+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[2], executable: m[1] === 'x' }));
}

/** `==> NAME` followed by the file's content, for each file in /etc/cni/net.d. */
export function parseCniConfigs(text: string): { name: string; content: string }[] {
  return text
    .split(/^==> /m)
    .slice(1)
    .map((part) => {
      const newline = part.indexOf('\n');
      return newline < 0
        ? { name: part.trim(), content: '' }
        : { name: part.slice(0, newline).trim(), content: part.slice(newline + 1).trim() };
    });
}

/** The plugin types a CNI config file chains (a conflist's plugins, or a single .conf's type); [] when it does not parse. */
export function cniTypesOf(content: string): string[] {
  try {
    const c = JSON.parse(content) as { type?: string; plugins?: { type?: string }[] };
    return c.plugins ? c.plugins.map((p) => p.type ?? '?') : c.type ? [c.type] : [];
  } catch {
    return [];
  }
}
