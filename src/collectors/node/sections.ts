import { type Probe, known, unknown } from '../../core/facts.js';

/** One section of the collector's output: what it printed (stdout and stderr) and its exit code. */
export interface Section {
  name: string;
  output: string;
  rc: number;
}

const SECTION = /^@@kc:([a-z]+)$/;
const RC = /^@@kc:rc=(\d+)$/;

/** A copy of `text` that shares no memory with the string it was cut from. */
const own = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

/** Splits the collector's output into sections. Unterminated or garbled sections are kept with rc -1. */
export function splitSections(text: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: { name: string; lines: string[] } | null = null;
  const close = (rc: number) => {
    if (!current) return;
    const lines = current.lines;
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    // join() copies, but hands a single line back as it is: a slice of the whole output, which would then
    // stay in memory for as long as any fact read from that line does (20 KB per host, for a hostname).
    const output = lines.length === 1 ? own(lines[0]) : lines.join('\n');
    sections.set(current.name, { name: current.name, output, rc });
    current = null;
  };
  for (const line of text.split('\n')) {
    const rc = RC.exec(line);
    if (rc) {
      close(Number(rc[1]));
      continue;
    }
    const start = SECTION.exec(line);
    if (start) {
      close(-1);
      current = { name: start[1], lines: [] };
      continue;
    }
    current?.lines.push(line);
  }
  close(-1);
  return sections;
}

/** Classifies a failed section by the messages coreutils print, so checks can say why a fact is unknown. */
export function failureOf<T>(section: Section | undefined, what: string): Probe<T> {
  if (!section) return unknown('error', `${what}: the collector printed nothing for it`);
  const text = section.output.trim();
  if (section.rc === 127 || /command not found|not found$/m.test(text)) return unknown('unavailable', text || `${what}: command not found`);
  if (/No such file or directory/.test(text)) return unknown('missing', text);
  if (/Permission denied|permission denied|Operation not permitted/.test(text)) return unknown('denied', text);
  return unknown('error', text || `${what}: exit code ${section.rc}`);
}

/** A section's output as a fact when it succeeded, parsed by `parse`; the reason otherwise. */
export function probeSection<T>(section: Section | undefined, what: string, parse: (text: string) => T): Probe<T> {
  if (!section || section.rc !== 0) return failureOf<T>(section, what);
  try {
    return known(parse(section.output));
  } catch (err: unknown) {
    return unknown('error', `${what}: could not parse: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** key=value lines (shell-style values, optional quotes) into a record. */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    out[line.slice(0, eq).trim()] = value;
  }
  return out;
}
