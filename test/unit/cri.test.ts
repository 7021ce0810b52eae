// The CRI Version call (gRPC over HTTP/2, framed by kubecheck) against node:http2's server (nghttp2, an
// HTTP/2 implementation of its own), and the HPACK decoder against RFC 7541's examples.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { criVersion } from '../../src/collectors/cri.js';
import { HpackDecoder } from '../../src/collectors/hpack.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HPACK decoding (RFC 7541 Appendix C)', () => {
  it('C.4: requests with Huffman-coded strings, the dynamic table carried from block to block', () => {
    const d = new HpackDecoder(4096);
    expect(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
    expect(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]);
    expect(d.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'))).toEqual([
      [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]);
  });

  it('C.6: responses with Huffman-coded strings in a 256-byte table, with evictions', () => {
    const d = new HpackDecoder(256);
    const first = [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']];
    expect(d.decode(hex(`4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
      2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`))).toEqual(first);
    // Refers to entries of the first block (c1 c0 bf) after evicting the oldest.
    expect(d.decode(hex('4883 640e ffc1 c0bf'))).toEqual([[':status', '307'], ...first.slice(1)]);
    expect(d.decode(hex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
      77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`))).toEqual([
      [':status', '200'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'], ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'], ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1']]);
  });

  it('refuses an index outside the tables and bad Huffman padding', () => {
    expect(() => new HpackDecoder().decode(hex('be'))).toThrow(/index 62 not in the tables/);
    expect(() => new HpackDecoder().decode(hex('0081 00 00'))).toThrow(/Huffman/);
  });
});

describe('criVersion against a real HTTP/2 server (node:http2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubecheck-cri-'));
  const servers: (Server | Http2Server)[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const listen = async <S extends Server | Http2Server>(server: S, name: string): Promise<string> => {
    const path = join(dir, name);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return path;
  };
  const dial = (path: string) => createConnection(path);
  const field = (n: number, text: string) => Buffer.concat([Buffer.from([n * 8 + 2, text.length]), Buffer.from(text)]);
  const grpcFrame = (body: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);

  it('asks runtime.v1.RuntimeService/Version as gRPC does and reads the VersionResponse from DATA and trailers', async () => {
    const seen: { headers?: Record<string, unknown>; body?: Buffer } = {};
    const server = createH2Server();
    server.on('stream', (stream, headers) => {
      seen.headers = headers;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        seen.body = Buffer.concat(chunks);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
        stream.end(grpcFrame(Buffer.concat([field(1, '0.1.0'), field(2, 'containerd'), field(3, 'v1.7.24'), field(4, 'v1')])));
      });
    });
    const path = await listen(server, 'ok.sock');
    expect(await criVersion(dial(path), 5_000)).toEqual({ version: '0.1.0', runtimeName: 'containerd', runtimeVersion: 'v1.7.24', runtimeApiVersion: 'v1' });
    expect(seen.headers).toMatchObject({ ':method': 'POST', ':path': '/runtime.v1.RuntimeService/Version', 'content-type': 'application/grpc', te: 'trailers' });
    expect(seen.body).toEqual(grpcFrame(Buffer.from([0x0a, 2, 0x76, 0x31])));
  });

  it('names the gRPC status and message of a trailers-only answer (a socket that is not a v1 CRI)', async () => {
    const server = createH2Server();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown service runtime.v1.RuntimeService' }, { endStream: true });
    });
    const path = await listen(server, 'unimplemented.sock');
    await expect(criVersion(dial(path), 5_000)).rejects.toThrow('the runtime answered gRPC status 12: unknown service runtime.v1.RuntimeService');
  });

  it('says "not a gRPC server" for an HTTP/1.1 server and for one that hangs up, and times out on silence', async () => {
    const http1 = await listen(createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'))), 'http1.sock');
    await expect(criVersion(dial(http1), 5_000)).rejects.toThrow(/^not a gRPC server \(it answered "HTTP\/1\.1 400 Bad Request/);
    const hangup = await listen(createServer((s) => s.end()), 'hangup.sock');
    await expect(criVersion(dial(hangup), 5_000)).rejects.toThrow('not a gRPC server (it closed the connection without a word)');
    const silent = await listen(createServer(() => {}), 'silent.sock');
    await expect(criVersion(dial(silent), 200)).rejects.toThrow('no CRI answer within 200 ms');
  });
});
