import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateHint, checkHttpTarget, checkTarget, clientOptions, makeTarget, readTrust, upstreamOf } from '../../src/net/target.ts';
import { UsageError } from '../../src/errors.ts';

describe('checkTarget', () => {
  it('accepts ws:// and wss:// URLs with a path and query, and returns them parsed', () => {
    expect(checkTarget('ws://127.0.0.1:7420').port).toBe('7420');
    const u = checkTarget('wss://chat.example.com/socket?tenant=eu');
    expect([u.protocol, u.hostname, u.pathname, u.search]).toEqual(['wss:', 'chat.example.com', '/socket', '?tenant=eu']);
  });

  it.each([
    ['notaurl', '--target must be a URL such as ws://127.0.0.1:7420 or wss://chat.example.com/ws, got "notaurl"'],
    ['http://127.0.0.1:1', '--target must be a ws:// or wss:// URL with a host'],
    ['wss://user:pw@h/', 'credentials in the URL are not supported'],
  ])('rejects %s with a usage error', (target, message) => {
    expect(() => checkTarget(target)).toThrow(UsageError);
    expect(() => checkTarget(target)).toThrow(message);
  });

  it('rejects an --http-target that is not http(s)', () => {
    expect(() => checkHttpTarget('ws://h/')).toThrow('--http-target must be an http:// or https:// URL such as https://api.example.com/v1, got "ws://h/"');
    expect(checkHttpTarget('https://api.example.com/v1').pathname).toBe('/v1');
  });
});

describe('makeTarget', () => {
  const via = { host: '127.0.0.1', port: 40001 };

  it('dials the proxy but keeps the scheme, path, query, Host and TLS name of the real server', () => {
    const t = makeTarget(new URL('wss://chat.example.com/socket?tenant=eu'), null, via, { insecure: false });
    expect(t.url).toBe('wss://127.0.0.1:40001/socket?tenant=eu');
    expect(t.direct).toBe('wss://chat.example.com/socket?tenant=eu');
    expect(t.host).toBe('chat.example.com');
    expect(t.tls?.servername).toBe('chat.example.com');
    expect(t.tls?.rejectUnauthorized).toBe(true);
    // The API defaults to the target's origin over https, through the same proxy (same host and port).
    expect(t.http?.url).toBe('https://127.0.0.1:40001');
    expect(t.http?.host).toBe('chat.example.com');
    const o = clientOptions(t);
    expect(o.headers).toEqual({ host: 'chat.example.com' });
    expect(o.servername).toBe('chat.example.com');
  });

  it('checks the certificate against the target host, not the proxy address dialled', () => {
    const t = makeTarget(new URL('wss://chat.example.com/'), null, via, { insecure: false });
    const cert = { subject: { CN: 'chat.example.com' }, subjectaltname: 'DNS:chat.example.com' } as never;
    expect(t.tls?.checkServerIdentity('127.0.0.1', cert)).toBeUndefined();
    const other = { subject: { CN: 'other.example.com' }, subjectaltname: 'DNS:other.example.com' } as never;
    expect(t.tls?.checkServerIdentity('127.0.0.1', other)).toBeInstanceOf(Error);
  });

  it('sends no SNI for an IP target, and passes an extra CA or --insecure on', () => {
    const t = makeTarget(new URL('wss://10.0.0.5:8443/'), null, via, { ca: 'PEM', insecure: false });
    expect(t.tls?.servername).toBeUndefined();
    expect(t.tls?.ca).toBe('PEM');
    expect(t.host).toBe('10.0.0.5:8443');
    expect(makeTarget(new URL('wss://h/'), null, via, { insecure: true }).tls?.rejectUnauthorized).toBe(false);
  });

  it('keeps a plain ws:// target plain, and dials an API on another host directly', () => {
    const t = makeTarget(new URL('ws://chat.internal:7420/'), new URL('https://api.internal/v1/'), via, { insecure: false });
    expect(t.tls).toBeNull();
    expect(t.http?.url).toBe('https://api.internal/v1/');
    expect(clientOptions(t.http).headers).toBeUndefined();
    expect(upstreamOf(new URL('wss://h/'))).toBe('h:443');
    // Without a proxy the dialled host is the target's own: no Host override.
    expect(clientOptions(makeTarget(new URL('ws://127.0.0.1:7420/'), null, null, { insecure: false }))).toEqual({});
  });
});

describe('readTrust', () => {
  it('reads a PEM CA file, and refuses a missing or non-PEM file or both flags at once, naming the flag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatstorm-trust-'));
    try {
      await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      await writeFile(join(dir, 'junk.txt'), 'hello');
      expect((await readTrust({ caFile: join(dir, 'ca.pem') })).ca).toContain('BEGIN CERTIFICATE');
      await expect(readTrust({ caFile: join(dir, 'none.pem') })).rejects.toThrow(`--ca ${join(dir, 'none.pem')}: cannot read the file (ENOENT)`);
      await expect(readTrust({ caFile: join(dir, 'junk.txt') })).rejects.toThrow('expected a PEM file');
      await expect(readTrust({ caFile: join(dir, 'ca.pem'), insecure: true })).rejects.toBeInstanceOf(UsageError);
      expect(await readTrust({})).toEqual({ insecure: false });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('certificateHint', () => {
  it('names --ca and --insecure for a refused certificate, also when wrapped as a cause, and nothing otherwise', () => {
    const tlsErr = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(certificateHint(new Error('fetch failed', { cause: tlsErr }))).toContain('pass --ca FILE (PEM) to trust it, or --insecure');
    expect(certificateHint(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeNull();
  });
});
