import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InProcessClient } from '../client/in-process.ts';
import type { NodeDriver, NodeRecord } from '../nodes/driver.ts';
import { controlRequest } from '../cli/control-client.ts';
import {
  controlPaths,
  nextWorkerName,
  serveControl,
  socketPathProblem,
  startControlServer,
  type ControlTarget,
} from './control.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-control-'));
  // The control client looks for a live `berth up` through the pid file: this process plays it.
  writeFileSync(join(dir, 'berth.pid'), `${process.pid}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A driver whose loadImages reports progress per image and fails on "missing:*" images. */
class FakeDriver implements NodeDriver {
  readonly name = 'fake';
  loaded: string[] = [];
  async create(): Promise<NodeRecord> {
    throw new Error('not used');
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async remove(): Promise<void> {}
  async list(): Promise<NodeRecord[]> {
    return [];
  }
  async close(): Promise<void> {}
  async loadImages(refs: string[], progress?: (line: string) => void): Promise<void> {
    for (const r of refs) {
      progress?.(`copying ${r} to 2 nodes`);
      await new Promise((res) => setTimeout(res, 10));
      if (r.startsWith('missing:')) throw new Error(`image ${r} not found in the host's Docker`);
      this.loaded.push(r);
    }
  }
}

const target = (driver?: NodeDriver): ControlTarget => ({
  config: { name: 'fake' },
  ...(driver ? { driver } : {}),
  controllerClient: { list: () => ({ items: [] }) } as unknown as InProcessClient,
});

function rawRequest(socket: string, headers: Record<string, string>): Promise<number> {
  return new Promise((res, rej) => {
    const req = request({ socketPath: socket, path: '/v1/nodes', headers }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', rej);
    req.end();
  });
}

test('the socket replaces a stale one, is private, needs the token, and goes away on close', async () => {
  const paths = controlPaths(dir);
  writeFileSync(paths.socket, 'stale');
  const server = await startControlServer(dir, target(new FakeDriver()));
  try {
    assert.equal(statSync(paths.socket).isSocket(), true);
    assert.equal(statSync(paths.socket).mode & 0o777, 0o600);
    assert.equal(statSync(paths.token).mode & 0o777, 0o600);
    assert.equal(await rawRequest(paths.socket, {}), 401);
    assert.equal(await rawRequest(paths.socket, { Authorization: 'Bearer wrong' }), 401);
    assert.deepEqual(await controlRequest(dir, { method: 'GET', path: '/v1/nodes' }), { nodes: [] });
    await assert.rejects(controlRequest(dir, { method: 'GET', path: '/v1/pods' }), {
      message: 'no such control endpoint: GET /v1/pods',
    });
  } finally {
    await server.close();
  }
  assert.equal(existsSync(paths.socket), false);
  assert.equal(existsSync(paths.token), false);
  await assert.rejects(
    controlRequest(dir, { method: 'GET', path: '/v1/nodes' }),
    /serves no control channel/,
  );
});

test('image load streams the driver progress lines, then its result', async () => {
  const driver = new FakeDriver();
  const server = await startControlServer(dir, target(driver));
  try {
    const lines: string[] = [];
    const load = (images: string[]) =>
      controlRequest(dir, {
        method: 'POST',
        path: '/v1/images/load',
        body: { images },
        onProgress: (l) => lines.push(l),
      });
    assert.deepEqual(await load(['a:1', 'b:2']), { done: true });
    assert.deepEqual(lines, ['copying a:1 to 2 nodes', 'copying b:2 to 2 nodes']);
    assert.deepEqual(driver.loaded, ['a:1', 'b:2']);
    await assert.rejects(load(['c:3', 'missing:4']), {
      message: "image missing:4 not found in the host's Docker",
    });
    assert.equal(lines.at(-1), 'copying missing:4 to 2 nodes');
    await assert.rejects(load([]), { message: 'images: give at least one image reference' });
  } finally {
    await server.close();
  }
});

test('a cluster without a node driver says so', async () => {
  const server = await startControlServer(dir, target());
  try {
    await assert.rejects(
      controlRequest(dir, { method: 'POST', path: '/v1/nodes', body: {} }),
      /runs without a node driver/,
    );
  } finally {
    await server.close();
  }
});

test('socket paths: too long is refused with the reason; Windows uses a named pipe', async () => {
  const long = join(dir, 'x'.repeat(120));
  assert.match(socketPathProblem(controlPaths(long)) ?? '', /longer than unix sockets allow/);
  const warnings: string[] = [];
  const s = await serveControl(long, target(), (l) => warnings.push(l));
  await s.close();
  assert.match(
    warnings[0] ?? '',
    /no control channel, so `berth node …` and `berth image load` cannot reach/,
  );
  const pipe = controlPaths('C:\\Users\\a\\berth', 'win32').socket;
  assert.match(pipe, /^\\\\\.\\pipe\\berth-[0-9a-f]{16}$/);
  assert.equal(socketPathProblem({ socket: pipe, token: '' }), undefined);
});

test('next worker name is one past the highest in use', () => {
  assert.equal(nextWorkerName('c', []), 'c-worker-1');
  assert.equal(nextWorkerName('c', ['c-worker-1', 'c-worker-3', 'other', 'c-worker-x']), 'c-worker-4');
});
