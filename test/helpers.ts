import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parseNodeFacts } from '../src/collectors/node/index.js';
import { splitSections } from '../src/collectors/node/sections.js';
import type { NodeFacts } from '../src/core/facts.js';
import type { FleetContext, HostContext, Role } from '../src/core/types.js';

export const ROOT = join(import.meta.dirname, '..');
export const fixture = (path: string) => readFileSync(join(ROOT, 'fixtures', path), 'utf8');

/** A fixed clock for certificate and token checks: 2026-06-01, as the fixtures were made for. */
export const NOW = new Date('2026-06-01T08:20:00Z');

export function factsFrom(file: string, clientMs = 1780304400000): NodeFacts {
  return parseNodeFacts(fixture(`collector/${file}`), { sentAt: clientMs - 10, firstByteAt: clientMs + 10, endedAt: clientMs + 60 });
}

export function hostCtx(over: Partial<HostContext> = {}): HostContext {
  return { host: 'h', roles: ['control-plane'] as Role[], phase: 'pre', params: {}, now: NOW, ...over };
}

export function fleetCtx(over: Partial<FleetContext> = {}): FleetContext {
  return { phase: 'pre', params: {}, now: NOW, ...over };
}

/** One section's text in a recorded collector output (NodeFacts.raw keeps only the evidence sections). */
export function sectionOf(file: string, name: string): string {
  const section = splitSections(fixture(`collector/${file}`)).get(name);
  if (!section) throw new Error(`${file} has no ${name} section`);
  return section.output;
}

/** The same collector output with some sections replaced (`name` → [output, rc]). */
export function withSections(text: string, replace: Record<string, [string, number]>): string {
  let out = text;
  for (const [name, [body, rc]] of Object.entries(replace)) {
    const re = new RegExp(`@@kc:${name}\\n[\\s\\S]*?@@kc:rc=\\d+\\n`);
    const section = `@@kc:${name}\n${body}\n\n@@kc:rc=${rc}\n`;
    out = re.test(out) ? out.replace(re, section) : out + section;
  }
  return out;
}

const BIN = join(ROOT, 'bin/kubecheck.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (bin/kubecheck.js) as users do: no colours, as in CI, with a bounded time. */
export function kubecheck(...args: string[]): Promise<CliRun> {
  return kubecheckWith({}, ...args);
}

/** The same, with extra environment or another time bound. */
export async function kubecheckWith(options: { env?: Record<string, string>; timeoutMs?: number }, ...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', CI: 'true', ...(options.env ?? {}) },
      timeout: options.timeoutMs ?? 180_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
