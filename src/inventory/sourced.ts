// A resolved value and where it came from, and the small text helpers the inventory sources share.
import { homedir } from 'node:os';
import { relative } from 'node:path';
import { localUser } from '../core/local-user.js';

/** A value and where it came from (`hosts.yaml:4`, `~/.ssh/config:12`, `--user`, `default`). */
export interface Sourced<T> {
  value: T;
  from: string;
}

/** A path as a user would write it: relative to the working directory when inside it, else with ~. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel && !rel.startsWith('..') && !rel.startsWith('/')) return rel;
  const home = homedir();
  return path.startsWith(`${home}/`) ? `~/${path.slice(home.length + 1)}` : path;
}

/** The home directory OpenSSH uses for ~ (the passwd entry's, not $HOME). */
export const sshHome = () => localUser().homedir;

/** A leading ~ expanded as ssh expands it (the passwd home). */
export const expandSshTilde = (path: string) => (path === '~' ? sshHome() : path.startsWith('~/') ? `${sshHome()}${path.slice(1)}` : path);

/** Expands a leading ~ as a shell (and Ansible) does: $HOME. */
export const expandTilde = (path: string) => (path === '~' ? homedir() : path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path);

/**
 * Splits a command line into words as POSIX shlex does (Python's shlex.split, which Ansible uses for
 * ssh_args and INI host lines): quotes, backslashes, and `#` comments when `comments` is set.
 */
export function shellSplit(text: string, comments = false): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1])) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (comments && c === '#') {
      break;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error('No closing quotation');
  if (inWord) words.push(word);
  return words;
}
