import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToxiproxyError, type Latency } from 'toxiproxy-node-client';
import { ProxyListenError, startEmbeddedToxiproxy, ToxiproxyApiError } from '../../src/proxy/index.ts';
import { Harness, readBytes } from './harness.ts';

let h: Harness;
beforeEach(async () => {
  h = await new Harness().start();
});
afterEach(async () => {
  await h.close();
});

async function call(method: string, path: string, body?: unknown, raw?: string) {
  const res = await fetch(h.toxiproxy.url + path, {
    method,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    headers: { 'Content-Type': 'application/json' },
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json') && text ? (JSON.parse(text) as unknown) : undefined;
  return { status: res.status, type: res.headers.get('content-type'), text, json };
}

describe('embedded Toxiproxy API through toxiproxy-node-client', () => {
  it('creates, lists, gets, updates and removes a proxy with the client', async () => {
    const up = await h.echo();
    const proxy = await h.client.createProxy({ name: 'eu', listen: 'localhost:0', upstream: `127.0.0.1:${up}` });
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(proxy.listen).not.toBe('127.0.0.1:0');
    expect(proxy.enabled).toBe(true);

    const all = await h.client.getAll();
    expect(Object.keys(all)).toEqual(['eu']);
    expect((await h.client.get('eu')).upstream).toBe(`127.0.0.1:${up}`);

    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    expect(disabled.listen).toBe(proxy.listen);

    await proxy.remove();
    expect(await h.client.getAll()).toEqual({});
    await expect(h.client.get('eu')).rejects.toBeInstanceOf(ToxiproxyError);
  });

  it('adds, reads, updates and removes a toxic with the client', async () => {
    const proxy = await h.client.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    const toxic = await proxy.addToxic<Latency>({
      name: 'lag', type: 'latency', stream: 'upstream', toxicity: 0.5, attributes: { latency: 100, jitter: 5 },
    });
    expect(toxic.toJson()).toEqual({
      name: 'lag', type: 'latency', stream: 'upstream', toxicity: 0.5, attributes: { latency: 100, jitter: 5 },
    });
    const updated = await toxic.update({ ...toxic.toJson(), attributes: { latency: 250, jitter: 5 } });
    expect(updated.attributes).toEqual({ latency: 250, jitter: 5 });
    expect((await proxy.getToxic<Latency>('lag')).attributes.latency).toBe(250);
    await toxic.remove();
    await expect(proxy.getToxic('lag')).rejects.toThrow('404');
  });

  it('populates proxies, and reports the version', async () => {
    const proxies = await h.client.populate([
      { name: 'a', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' },
      { name: 'b', listen: '127.0.0.1:0', upstream: '127.0.0.1:9', enabled: false },
    ]);
    expect(Object.keys(proxies).sort()).toEqual(['a', 'b']);
    expect(proxies['b']?.enabled).toBe(false);
    expect(JSON.parse(await h.client.getVersion())).toEqual({ version: '2.12.0' });
  });

  it('reset enables every proxy and removes every toxic', async () => {
    const proxy = await h.client.createProxy({ name: 'p', listen: '127.0.0.1:0', upstream: '127.0.0.1:9', enabled: false });
    await proxy.addToxic({ name: 't', type: 'timeout', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } });
    await h.client.reset();
    const after = await call('GET', '/proxies/p');
    expect(after.json).toMatchObject({ enabled: true, toxics: [] });
  });
});

describe('embedded Toxiproxy API over raw HTTP', () => {
  it('answers 201 with the proxy JSON, fields in Toxiproxy order, on create', async () => {
    const r = await call('POST', '/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: 'example.com:80' });
    expect(r.status).toBe(201);
    expect(r.type).toBe('application/json');
    expect(Object.keys(r.json as object)).toEqual(['name', 'listen', 'upstream', 'enabled', 'toxics']);
    expect(r.json).toMatchObject({ name: 'x', upstream: 'example.com:80', enabled: true, toxics: [] });
  });

  it('answers 500 with Go\'s lookup wording when the listen host does not resolve (found by the fuzz test)', async () => {
    // `.invalid` never resolves (RFC 2606); no DNS server is asked on this machine's loopback-only network.
    const r = await call('POST', '/proxies', { name: 'q', listen: 'nowhere.invalid:0', upstream: '127.0.0.1:9' });
    expect(r.status).toBe(500);
    expect((r.json as { error: string }).error).toMatch(/^listen tcp: lookup nowhere\.invalid: /);
    expect((await call('GET', '/proxies')).json).toEqual({});
  });

  it('answers 200 on toxic create, with defaults name <type>_<stream>, downstream, toxicity 1, all attributes', async () => {
    await call('POST', '/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    const r = await call('POST', '/proxies/x/toxics', { type: 'slicer', attributes: { average_size: 10 } });
    expect(r.status).toBe(200);
    expect(r.text).toBe(
      '{"attributes":{"average_size":10,"size_variation":0,"delay":0},"name":"slicer_downstream","type":"slicer","stream":"downstream","toxicity":1}',
    );
    const up = await call('POST', '/proxies/x/toxics', { type: 'latency', stream: 'upstream' });
    expect((up.json as { name: string }).name).toBe('latency_upstream');
    const list = await call('GET', '/proxies/x/toxics');
    // Upstream toxics are listed first, as Toxiproxy walks its chains in direction order.
    expect((list.json as { name: string }[]).map((t) => t.name)).toEqual(['latency_upstream', 'slicer_downstream']);
  });

  it('PATCH and POST on a toxic merge attributes and keep the others', async () => {
    await call('POST', '/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    await call('POST', '/proxies/x/toxics', { name: 'l', type: 'latency', attributes: { latency: 10, jitter: 3 } });
    const patched = await call('PATCH', '/proxies/x/toxics/l', { attributes: { latency: 20 } });
    expect(patched.json).toMatchObject({ attributes: { latency: 20, jitter: 3 }, toxicity: 1 });
    const posted = await call('POST', '/proxies/x/toxics/l', { toxicity: 0.25 });
    expect(posted.json).toMatchObject({ attributes: { latency: 20, jitter: 3 }, toxicity: 0.25 });
    // Toxiproxy's update reads only attributes and toxicity: name, type and stream are ignored.
    const moved = await call('PATCH', '/proxies/x/toxics/l', { name: 'm', type: 'slicer', stream: 'upstream', toxicity: 0.5 });
    expect(moved).toMatchObject({ status: 200, json: { name: 'l', type: 'latency', stream: 'downstream', toxicity: 0.5 } });
  });

  it('PATCH on a proxy merges fields; changing listen restarts it on the new port', async () => {
    const up = await h.echo();
    await call('POST', '/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: `127.0.0.1:${up}` });
    const off = await call('PATCH', '/proxies/x', { enabled: false });
    expect(off.json).toMatchObject({ enabled: false, upstream: `127.0.0.1:${up}` });
    const moved = await call('PATCH', '/proxies/x', { listen: '127.0.0.1:0', enabled: true });
    expect(moved.json).toMatchObject({ enabled: true });
    const port = Number((moved.json as { listen: string }).listen.split(':')[1]);
    const s = await h.connect(port);
    s.write('ping');
    expect((await readBytes(s, 4)).data.toString()).toBe('ping');
  });

  it('answers 204 with an empty body on delete and reset', async () => {
    await call('POST', '/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    await call('POST', '/proxies/x/toxics', { type: 'noop' });
    expect(await call('DELETE', '/proxies/x/toxics/noop_downstream')).toMatchObject({ status: 204, text: '' });
    expect(await call('POST', '/reset')).toMatchObject({ status: 204, text: '' });
    expect(await call('DELETE', '/proxies/x')).toMatchObject({ status: 204, text: '' });
  });

  it.each([
    ['POST', '/proxies', { name: 'dup', upstream: '127.0.0.1:9' }, 409, 'proxy already exists'],
    ['POST', '/proxies', { upstream: '127.0.0.1:9' }, 400, 'missing required field: name'],
    ['POST', '/proxies', { name: 'n' }, 400, 'missing required field: upstream'],
    ['POST', '/proxies', { name: 1, upstream: '127.0.0.1:9' }, 400, 'bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string'],
    ['POST', '/proxies', [1], 400, 'bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy'],
    ['POST', '/proxies', { name: 'n', upstream: 'nope' }, 400, 'proxy field `upstream` must be host:port with a port from 1 to 65535, got "nope"'],
    ['GET', '/proxies/missing', undefined, 404, 'proxy not found'],
    ['DELETE', '/proxies/missing', undefined, 404, 'proxy not found'],
    ['GET', '/proxies/dup/toxics/missing', undefined, 404, 'toxic not found'],
    ['DELETE', '/proxies/dup/toxics/missing', undefined, 404, 'toxic not found'],
    ['POST', '/proxies/dup/toxics', { type: 'latency', stream: 'sideways' }, 400, 'stream was invalid, can be either upstream or downstream'],
    ['POST', '/proxies/dup/toxics', { type: 'teleport' }, 400, 'invalid toxic type'],
    ['POST', '/proxies/dup/toxics', { type: 'bandwidth', attributes: { rate: 0 } }, 400, 'toxic attribute `rate` must be a positive integer (KB/s), got 0'],
    ['POST', '/proxies/dup/toxics', { type: 'bandwidth', attributes: { rate: -5 } }, 400, 'toxic attribute `rate` must be a positive integer (KB/s), got -5'],
    ['POST', '/proxies/dup/toxics', { type: 'bandwidth' }, 400, 'toxic attribute `rate` must be a positive integer (KB/s), got 0'],
    ['POST', '/proxies/dup/toxics', { type: 'slicer', attributes: { average_size: 0 } }, 400, 'toxic attribute `average_size` + `size_variation` must be at least 1 (bytes), got 0 + 0; Toxiproxy recurses forever on these and dies'],
    ['POST', '/proxies/dup/toxics', { type: 'slicer', attributes: { average_size: 5, size_variation: 7 } }, 400, 'toxic attribute `size_variation` must be at most `average_size` + 1 (bytes), got 7 with average_size 5; larger variations can cut a piece of negative size, which panics Toxiproxy'],
    ['POST', '/proxies/dup/toxics', { type: 'latency', attributes: { latency: '100' } }, 400, 'toxic attribute `latency` must be an integer (ms), got "100"'],
    ['POST', '/proxies/dup/toxics', { type: 'latency', attributes: { latency: 1.5 } }, 400, 'toxic attribute `latency` must be an integer (ms), got 1.5'],
    ['POST', '/proxies/dup/toxics', { type: 'latency', attributes: { latency: 2 ** 31 } }, 400, 'toxic attribute `latency` must be at most 2147483647 (ms), got 2147483648'],
    ['PATCH', '/proxies/dup', undefined, 400, 'bad request body: EOF'],
  ])('%s %s %j answers %i "%s"', async (method, path, body, status, message) => {
    await call('POST', '/proxies', { name: 'dup', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    const r = await call(method, path, body);
    expect(r.status).toBe(status);
    expect(r.type).toBe('application/json');
    expect(r.json).toEqual({ error: message, status });
  });

  it('answers 409 on a duplicate toxic name', async () => {
    await call('POST', '/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    await call('POST', '/proxies/x/toxics', { type: 'latency' });
    const r = await call('POST', '/proxies/x/toxics', { type: 'latency' });
    expect(r).toMatchObject({ status: 409, json: { error: 'toxic already exists', status: 409 } });
  });

  it('answers 400 on invalid JSON and never crashes', async () => {
    const r = await call('POST', '/proxies', undefined, '{"name": ');
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toMatch(/^bad request body: invalid JSON: /);
    expect((await call('GET', '/proxies')).status).toBe(200);
  });

  it.each([
    ['PUT', '/proxies', 'GET, POST'],
    ['DELETE', '/proxies', 'GET, POST'],
    ['GET', '/reset', 'POST'],
    ['GET', '/populate', 'POST'],
    ['PUT', '/proxies/x', 'GET, POST, PATCH, DELETE'],
    ['PATCH', '/proxies/x/toxics', 'GET, POST'],
    ['POST', '/version', 'GET'],
  ])('answers 405 to %s %s, allowing %s', async (method, path, allow) => {
    const res = await fetch(h.toxiproxy.url + path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    // gorilla/mux, Toxiproxy's router, sends 405 with an empty body.
    expect(await res.text()).toBe('');
  });

  it('answers 404 to an unknown path with Go\'s plain-text body, and 403 to a browser', async () => {
    for (const path of ['/nope', '/proxies/x/toxics/y/z', '/proxies/%E0%A4%A']) {
      expect(await call('GET', path)).toMatchObject({ status: 404, type: 'text/plain; charset=utf-8', text: '404 page not found\n' });
    }
    const res = await fetch(h.toxiproxy.url + '/proxies', { headers: { 'User-Agent': 'Mozilla/5.0' } });
    expect(res.status).toBe(403);
  });

  it('serves /version as Toxiproxy does', async () => {
    const res = await fetch(h.toxiproxy.url + '/version');
    expect(res.headers.get('content-type')).toBe('application/json;charset=utf-8');
    expect(await res.text()).toBe('{"version": "2.12.0"}\n');
  });

  it('populate keeps an unchanged proxy (with its toxics) and replaces a changed one', async () => {
    const first = await call('POST', '/populate', [
      { name: 'keep', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' },
      { name: 'change', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' },
    ]);
    expect(first.status).toBe(201);
    const [keep] = (first.json as { proxies: { listen: string }[] }).proxies;
    await call('POST', '/proxies/keep/toxics', { type: 'latency' });
    await call('POST', '/proxies/change/toxics', { type: 'latency' });
    const second = await call('POST', '/populate', [
      { name: 'keep', listen: keep?.listen, upstream: '127.0.0.1:9', enabled: false },
      { name: 'change', listen: '127.0.0.1:0', upstream: '127.0.0.1:10' },
    ]);
    expect(second.status).toBe(201);
    const [kept, changed] = (second.json as { proxies: { enabled: boolean; toxics: unknown[]; upstream: string }[] }).proxies;
    expect(kept).toMatchObject({ listen: keep?.listen, enabled: true });
    expect(kept?.toxics).toHaveLength(1);
    expect(changed).toMatchObject({ upstream: '127.0.0.1:10', toxics: [] });
  });

  it('populate stopped part-way reports the error and what it created', async () => {
    const taken = await h.echo();
    const r = await call('POST', '/populate', [
      { name: 'ok', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' },
      { name: 'clash', listen: `127.0.0.1:${taken}`, upstream: '127.0.0.1:9' },
      { name: 'never', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' },
    ]);
    expect(r.status).toBe(500);
    const body = r.json as { error: string; status: number; proxies: { name: string }[] };
    expect(Object.keys(body)).toEqual(['error', 'status', 'proxies']);
    expect(body.error).toBe(`listen tcp 127.0.0.1:${taken}: bind: address already in use`);
    expect(body.proxies.map((p) => p.name)).toEqual(['ok']);
    expect(Object.keys((await call('GET', '/proxies')).json as object)).toEqual(['ok']);
  });

  it.each([
    [{ name: 'a' }, 'bad request body: json: cannot unmarshal object into Go value of type []toxiproxy.Proxy'],
    [[{ name: 'a', upstream: '127.0.0.1:9' }, { name: 'b' }], 'missing required field: upstream at proxy 2'],
  ])('populate %j answers 400 "%s" with proxies null, as Toxiproxy does', async (body, message) => {
    const r = await call('POST', '/populate', body);
    expect(r.status).toBe(400);
    expect(r.type).toBe('application/json');
    expect(r.text).toBe(JSON.stringify({ error: message, status: 400, proxies: null }));
  });

  it('populate failing on its first proxy answers proxies null; an empty populate answers [] (not Toxiproxy\'s null)', async () => {
    const taken = await h.echo();
    const r = await call('POST', '/populate', [{ name: 'clash', listen: `127.0.0.1:${taken}`, upstream: '127.0.0.1:9' }]);
    expect(r).toMatchObject({ status: 500, json: { status: 500, proxies: null } });
    expect(await call('POST', '/populate', [])).toMatchObject({ status: 201, json: { proxies: [] } });
    // Why `[]`: the Node client iterates the list; with Toxiproxy's null, populate([]) throws.
    expect(await h.client.populate([])).toEqual({});
  });

  it('keeps the case of `stream` as given, in the toxic and its default name, as Toxiproxy does', async () => {
    await call('POST', '/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    const r = await call('POST', '/proxies/x/toxics', { type: 'latency', stream: 'UPSTREAM' });
    expect(r).toMatchObject({ status: 200, json: { name: 'latency_UPSTREAM', stream: 'UPSTREAM' } });
    const list = (await call('GET', '/proxies/x/toxics')).json as { stream: string }[];
    expect(list.map((t) => t.stream)).toEqual(['UPSTREAM']);
    // It acts upstream: a second toxic lower-case `upstream` has its own default name.
    expect(await call('POST', '/proxies/x/toxics', { type: 'latency', stream: 'upstream' })).toMatchObject({ json: { name: 'latency_upstream' } });
  });

  it('reads field names case-insensitively and ignores unknown fields and attributes, as Go\'s decoder does', async () => {
    const p = await call('POST', '/proxies', { Name: 'x', LISTEN: '127.0.0.1:0', upstream: '127.0.0.1:9', colour: 'red' });
    expect(p).toMatchObject({ status: 201, json: { name: 'x', upstream: '127.0.0.1:9' } });
    const t = await call('POST', '/proxies/x/toxics', { Type: 'latency', toxicty: 0.1, attributes: { Latency: 7, delay: 1 } });
    expect(t).toMatchObject({ status: 200, json: { type: 'latency', toxicity: 1, attributes: { latency: 7, jitter: 0 } } });
    expect(await call('PATCH', '/proxies/x', { name: 'renamed', enabled: true })).toMatchObject({ status: 200, json: { name: 'x' } });
  });

  it.each([
    ['slicer', { average_size: 5, size_variation: 5 }],
    ['slicer', { average_size: 5, size_variation: 6 }],
    ['slicer', { average_size: 0, size_variation: 1 }],
    ['slicer', { average_size: 10, size_variation: -3 }],
    ['slicer', { average_size: 10, delay: -5 }],
    ['latency', { latency: -100, jitter: -5 }],
    ['timeout', { timeout: -1 }],
    ['slow_close', { delay: -1 }],
    ['reset_peer', { timeout: -1 }],
    ['limit_data', { bytes: -1 }],
  ])('accepts %s %j, which Toxiproxy 2.12 accepts and survives', async (type, attributes) => {
    await call('POST', '/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    const r = await call('POST', '/proxies/x/toxics', { type, attributes, toxicity: 2 });
    expect(r).toMatchObject({ status: 200, json: { type, attributes, toxicity: 2 } });
  });

  it('lists proxies by name in sorted order', async () => {
    for (const name of ['zeta', 'alpha', 'mid']) await call('POST', '/proxies', { name, listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
    expect(Object.keys((await call('GET', '/proxies')).json as object)).toEqual(['alpha', 'mid', 'zeta']);
  });
});

describe('startEmbeddedToxiproxy', () => {
  it('rejects with ProxyListenError, code and message when the port is taken', async () => {
    const err = await startEmbeddedToxiproxy({ port: h.toxiproxy.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyListenError);
    expect((err as ProxyListenError).code).toBe('CHATSTORM_ERR_PROXY_LISTEN');
    expect((err as Error).message).toContain(`cannot listen on 127.0.0.1:${h.toxiproxy.port}: address already in use (EADDRINUSE)`);
  });

  it('exposes ToxiproxyApiError with a stable code and the HTTP status', () => {
    const err = new ToxiproxyApiError(404, 'proxy not found');
    expect(err.code).toBe('CHATSTORM_ERR_PROXY_API');
    expect(err.status).toBe(404);
  });
});
