// Ansible Vault (format 1.1/1.2, AES256): read with a password the user gave (--vault-password-file),
// never prompted for. Keys as Ansible derives them: PBKDF2-SHA256 (10,000 rounds) → AES-256-CTR key,
// HMAC-SHA256 key and counter; the HMAC is checked before anything is decrypted.
import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';

export const VAULT_HEADER = '$ANSIBLE_VAULT;';

/** The value an inline `!vault` scalar has when it is not decrypted (as ansible-inventory prints it). */
export interface VaultedValue {
  __ansible_vault: string;
}

export const isVaulted = (v: unknown): v is VaultedValue =>
  typeof v === 'object' && v !== null && typeof (v as VaultedValue).__ansible_vault === 'string';

export const isVaultText = (text: string) => text.trimStart().startsWith(VAULT_HEADER);

/** Decrypts a vault envelope; throws with the reason (wrong password, not a vault) otherwise. */
export function decryptVault(envelope: string, password: string): string {
  const lines = envelope.trim().split(/\r?\n/);
  const header = lines[0].split(';').map((s) => s.trim());
  if (header[0] !== '$ANSIBLE_VAULT' || header[2] !== 'AES256') throw new Error(`not an AES256 Ansible Vault (${lines[0]})`);
  const inner = Buffer.from(lines.slice(1).join('').trim(), 'hex').toString('latin1').split('\n');
  if (inner.length !== 3) throw new Error('the vault text is damaged');
  const [salt, hmac, ciphertext] = inner.map((h) => Buffer.from(h, 'hex'));
  const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10_000, 80, 'sha256');
  const expected = createHmac('sha256', derived.subarray(32, 64)).update(ciphertext).digest();
  if (expected.length !== hmac.length || !timingSafeEqual(expected, hmac)) throw new Error('the vault password does not open it (HMAC mismatch)');
  const decipher = createDecipheriv('aes-256-ctr', derived.subarray(0, 32), derived.subarray(64, 80));
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const pad = padded[padded.length - 1];
  if (pad < 1 || pad > 16) throw new Error('the vault text is damaged (padding)');
  return padded.subarray(0, padded.length - pad).toString('utf8');
}

/** The password in a --vault-password-file: its content, or what it prints when it is executable (as Ansible). */
export function readVaultPassword(file: string, timeoutMs = 10_000): string {
  let executable = true;
  try {
    accessSync(file, constants.X_OK);
  } catch {
    executable = false;
  }
  try {
    const raw = executable ? execFileSync(file, [], { timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8') : readFileSync(file, 'utf8');
    const password = executable ? raw.replace(/^[\r\n]+|[\r\n]+$/g, '') : raw.trim();
    if (!password) throw new InputError([{ file, message: 'the vault password file is empty' }]);
    return password;
  } catch (err: unknown) {
    if (err instanceof InputError) throw err;
    throw new InputError([{ file, message: `cannot read the vault password: ${(err as Error).message.split('\n')[0]}` }]);
  }
}
