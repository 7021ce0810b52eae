import { X509Certificate } from 'node:crypto';
import type { Certificate, CertificateProblem } from '../../core/facts.js';

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;

type Read = Omit<Certificate, 'path'>;

/**
 * What a PEM block says, by its text: every node of a cluster carries the same CA certificate, and
 * parsing one costs ~0.7 ms of CPU (a collection of thousands of nodes parsed it thousands of times).
 */
const read = new Map<string, Read>();
const READ_MAX = 512;

function readCertificate(pem: string): Read {
  let got = read.get(pem);
  if (got) return got;
  const cert = new X509Certificate(pem);
  got = { subject: cert.subject.replace(/\n/g, ', '), notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString() };
  if (read.size >= READ_MAX) read.clear();
  read.set(pem, got);
  return got;
}

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
      out.push({ path, ...readCertificate(block[0]) });
    } catch (err: unknown) {
      out.push({ path, error: `not a valid certificate: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return out;
}
