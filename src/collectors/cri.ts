// The CRI's RuntimeService/Version, spoken over a connection to the runtime's socket (through the host's
// SSH connection, or locally): kubeadm's CRI check asks the runtime exactly this, so a socket that
// exists but is not a CRI runtime (or a stale one) is found even where crictl is not installed.
// gRPC over HTTP/2 with node:http2; the protobuf messages are small enough to read by hand.
import { connect as http2Connect, constants } from 'node:http2';
import type { Duplex } from 'node:stream';

export interface CriVersion {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

/** A length-delimited protobuf field (wire type 2) as a string, for fields 1..n of a flat message. */
export function decodeStrings(buf: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  let i = 0;
  const varint = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated protobuf');
      const b = buf[i++];
      n += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return n;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 2) {
      const len = varint();
      out.set(field, buf.subarray(i, i + len).toString('utf8'));
      i += len;
    } else if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unexpected protobuf wire type ${wire}`);
  }
  return out;
}

/** VersionRequest{version: "v1"} in a gRPC frame. */
function versionRequest(): Buffer {
  const body = Buffer.from([0x0a, 2, 0x76, 0x31]);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/**
 * Asks the runtime on `stream` for its version (runtime.v1.RuntimeService/Version). Rejects with what
 * went wrong: not HTTP/2 (not a gRPC server), a gRPC error (e.g. Unimplemented: not a v1 CRI), or no answer in time.
 */
export function criVersion(stream: Duplex, timeoutMs: number): Promise<CriVersion> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const session = http2Connect('http://localhost', { createConnection: () => stream });
    const finish = (err?: Error, value?: CriVersion) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        session.destroy();
        stream.destroy();
        reject(err);
      } else {
        // Answered: a GOAWAY, then the stream ends as HTTP/2 lets it go. Destroying both at once made
        // Node build an error object for each (ending a destroyed stream), ~1.5 ms of CPU per host.
        session.close(() => stream.destroy());
        resolve(value!);
      }
    };
    const timer = setTimeout(() => finish(new Error(`no CRI answer within ${timeoutMs} ms`)), timeoutMs);
    session.on('error', (err: Error) => finish(new Error(`not a gRPC server (${err.message})`)));
    const req = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: '/runtime.v1.RuntimeService/Version',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    req.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) {
        status = String(headers['grpc-status']);
        message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
      }
    });
    req.on('trailers', (trailers) => {
      status = String(trailers['grpc-status'] ?? status ?? '');
      message = decodeURIComponent(String(trailers['grpc-message'] ?? message));
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (err: Error) => finish(new Error(`the CRI request failed (${err.message})`)));
    req.on('end', () => {
      if (status && status !== '0') return finish(new Error(`the runtime answered gRPC status ${status}${message ? `: ${message}` : ''}`));
      const body = Buffer.concat(chunks);
      if (body.length < 5) return finish(new Error('the runtime sent no VersionResponse'));
      try {
        const fields = decodeStrings(body.subarray(5, 5 + body.readUInt32BE(1)));
        finish(undefined, { version: fields.get(1) ?? '', runtimeName: fields.get(2) ?? '', runtimeVersion: fields.get(3) ?? '', runtimeApiVersion: fields.get(4) ?? '' });
      } catch (err: unknown) {
        finish(new Error(`the runtime's answer is not a VersionResponse (${(err as Error).message})`));
      }
    });
    req.end(versionRequest());
  });
}
