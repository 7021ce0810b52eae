import { X509Certificate } from 'node:crypto';
import type { Certificate, CertificateProblem } from '../../core/facts.js';

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;

/**
 * The certs section: `==> PATH` followed by that file's CERTIFICATE blocks (or "permission denied").
 * The first block of a file is its leaf, the one whose dates matter.
 */
export function parseCertificates(text: string): (Certificate | CertificateProblem)[] {
  const out: (Certificate | CertificateProblem)[] = [];
  const parts = text.split(/^==> /m).slice(1);
  for (const part of parts) {
    const newline = part.indexOf('\n');
    const path = (newline < 0 ? part : part.slice(0, newline)).trim();
    const body = newline < 0 ? '' : part.slice(newline + 1);
    if (/permission denied/i.test(body) && !BLOCK.test(body)) {
      out.push({ path, error: 'permission denied (run as root or with sudo)' });
      continue;
    }
    const block = BLOCK.exec(body);
    if (!block) {
      out.push({ path, error: 'no PEM certificate in the file' });
      continue;
    }
    try {
      const cert = new X509Certificate(block[0]);
      out.push({
        path,
        subject: cert.subject.replace(/\n/g, ', '),
        notBefore: new Date(cert.validFrom).toISOString(),
        notAfter: new Date(cert.validTo).toISOString(),
      });
    } catch (err: unknown) {
      out.push({ path, error: `not a valid certificate: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return out;
}
