// The CRI's RuntimeService/Version, spoken over a connection to the runtime's socket (through the host's
// SSH connection, or locally): kubeadm's CRI check asks the runtime exactly this, so a socket that
// exists but is not a CRI runtime (or a stale one) is found even where crictl is not installed.
// One gRPC call over HTTP/2 with prior knowledge, framed here: the request is constant (sent in one
// write), the answer is a few frames, and the protobuf messages are small enough to read by hand.
// node:http2 did the same at ~2.5 ms of CPU per host of a fleet (a session, nghttp2, a JS socket
// wrapper around the SSH channel) against a few hundred microseconds this way.
import type { Duplex } from 'node:stream';
import { HpackDecoder } from './hpack.js';

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

const PATH = '/runtime.v1.RuntimeService/Version';

/** HTTP/2 frame types and flags used here (RFC 9113 §6). */
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK string literal, not Huffman-coded (all shorter than 127 bytes). */
const literal = (text: string) => Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);

/**
 * The whole request: the connection preface, empty SETTINGS, the HEADERS of stream 1 (POST, http,
 * the path, :authority localhost, content-type application/grpc, te trailers) and its DATA:
 * VersionRequest{version: "v1"} in a gRPC frame.
 */
const REQUEST = (() => {
  const headers = Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table 3 and 6)
    Buffer.from([0x04]), literal(PATH), // :path, literal without indexing (name: static 4)
    Buffer.from([0x01]), literal('localhost'), // :authority (static 1)
    Buffer.from([0x0f, 0x10]), literal('application/grpc'), // content-type (static 31)
    Buffer.from([0x00]), literal('te'), literal('trailers'),
  ]);
  const body = Buffer.from([0x0a, 2, 0x76, 0x31]);
  const message = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
  return Buffer.concat([
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
    frame(SETTINGS, 0, 0),
    frame(HEADERS, END_HEADERS, 1, headers),
    frame(DATA, END_STREAM, 1, message),
  ]);
})();

/** A frame's payload without its padding (and a HEADERS frame's priority fields). */
function content(type: number, flags: number, payload: Buffer): Buffer {
  let start = 0;
  let end = payload.length;
  if (flags & PADDED) end -= payload[start++];
  if (type === HEADERS && flags & PRIORITY) start += 5;
  if (end < start) throw new Error('bad padding');
  return payload.subarray(start, end);
}

const printable = (b: Buffer) => JSON.stringify(b.subarray(0, 40).toString('latin1'));

/**
 * Asks the runtime on `stream` for its version (runtime.v1.RuntimeService/Version). Rejects with what
 * went wrong: not HTTP/2 (not a gRPC server), a gRPC error (e.g. Unimplemented: not a v1 CRI), or no answer in time.
 */
export function criVersion(stream: Duplex, timeoutMs: number): Promise<CriVersion> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let received: Buffer = Buffer.alloc(0);
    let preface = false;
    const hpack = new HpackDecoder();
    let block: Buffer[] | undefined; // a header block still waiting for its CONTINUATION frames
    let blockEnds = false;
    const body: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    const finish = (err?: Error, value?: CriVersion) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.off('data', onData);
      if (err) {
        stream.destroy();
        reject(err);
      } else {
        // Answered: our side of the connection ends; the runtime closes its own.
        stream.end();
        resolve(value!);
      }
    };
    const headerBlock = (fields: [string, string][]) => {
      for (const [name, value] of fields) {
        if (name === 'grpc-status') status = value;
        else if (name === 'grpc-message') message = decodeURIComponent(value);
      }
    };
    const ended = () => {
      if (status && status !== '0') return finish(new Error(`the runtime answered gRPC status ${status}${message ? `: ${message}` : ''}`));
      const data = Buffer.concat(body);
      if (data.length < 5) return finish(new Error('the runtime sent no VersionResponse'));
      try {
        const fields = decodeStrings(data.subarray(5, 5 + data.readUInt32BE(1)));
        finish(undefined, { version: fields.get(1) ?? '', runtimeName: fields.get(2) ?? '', runtimeVersion: fields.get(3) ?? '', runtimeApiVersion: fields.get(4) ?? '' });
      } catch (err: unknown) {
        finish(new Error(`the runtime's answer is not a VersionResponse (${(err as Error).message})`));
      }
    };
    const onFrame = (type: number, flags: number, id: number, payload: Buffer) => {
      if (block && type !== CONTINUATION) throw new Error('not a gRPC server (a header block was interrupted)');
      if (type === SETTINGS && !(flags & ACK)) stream.write(frame(SETTINGS, ACK, 0));
      else if (type === PING && !(flags & ACK)) stream.write(frame(PING, ACK, 0, payload));
      else if (type === GOAWAY && id === 0) throw new Error(`the runtime refused the request (GOAWAY, error code ${payload.readUInt32BE(4)})`);
      else if (id !== 1) return;
      else if (type === RST_STREAM) throw new Error(`the CRI request failed (stream reset, error code ${payload.readUInt32BE(0)})`);
      else if (type === DATA) {
        body.push(content(type, flags, payload));
        if (body.reduce((n, b) => n + b.length, 0) > 65_536) throw new Error('the runtime sent more than 64 KiB for its version');
        if (flags & END_STREAM) ended();
      } else if (type === HEADERS || type === CONTINUATION) {
        if (type === HEADERS) {
          block = [];
          blockEnds = (flags & END_STREAM) !== 0;
        }
        if (!block) throw new Error('not a gRPC server (CONTINUATION without HEADERS)');
        block.push(type === HEADERS ? content(type, flags, payload) : payload);
        if (flags & END_HEADERS) {
          headerBlock(hpack.decode(Buffer.concat(block)));
          block = undefined;
          if (blockEnds) ended();
        }
      }
    };
    const onData = (chunk: Buffer) => {
      received = received.length ? Buffer.concat([received, chunk]) : chunk;
      try {
        // An HTTP/2 server's first frame is its SETTINGS (a server preface).
        if (!preface && received.length >= 9) {
          if (received[3] !== SETTINGS || received.readUIntBE(0, 3) > 16_384 || received.readUInt32BE(5) !== 0) {
            throw new Error(`not a gRPC server (it answered ${printable(received)})`);
          }
          preface = true;
        }
        while (!settled && received.length >= 9) {
          const len = received.readUIntBE(0, 3);
          if (received.length < 9 + len) break;
          const payload = received.subarray(9, 9 + len);
          onFrame(received[3], received[4], received.readUInt32BE(5) & 0x7fffffff, payload);
          received = received.subarray(9 + len);
        }
      } catch (err: unknown) {
        finish(err as Error);
      }
    };
    const timer = setTimeout(() => finish(new Error(`no CRI answer within ${timeoutMs} ms`)), timeoutMs);
    stream.on('data', onData);
    stream.once('error', (err: Error) => finish(new Error(`the CRI request failed (${err.message})`)));
    stream.once('end', () => finish(new Error(preface ? 'the runtime closed the connection before answering' : received.length ? `not a gRPC server (it answered ${printable(received)})` : 'not a gRPC server (it closed the connection without a word)')));
    stream.write(REQUEST);
  });
}
