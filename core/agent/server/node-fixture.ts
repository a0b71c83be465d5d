/**
 * Test support (imported by tests only): the agent endpoint running inside a real node container. The
 * node gets a CNI config and busybox; a bundled script (run with the node's Node.js 18) creates one
 * pod through the CRI with the kubelet's labels and log layout, then serves startAgentServer on :10250
 * with a serving certificate from a test CA. The test reaches it on the node's bridge address.
 */
import { fileURLToPath } from 'node:url';
import type { DockerNodeDriver } from '../../nodes/docker/driver.ts';
import { bundleSnippet } from '../cri/node-script.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** The pod the script creates: default/web, uid below, containers as named. */
export const FIXTURE_POD = { namespace: 'default', name: 'web', uid: 'uid-streams-1' } as const;

/** Runs inside the node: argv = busybox image, path of a JSON file with the PEMs. */
const SCRIPT = String.raw`
import { readFileSync, writeFileSync } from 'node:fs';
import { CriClient } from '../cri/client.ts';
import { startAgentServer } from './server.ts';
const [image, pemFile] = process.argv.slice(2);
const pems = JSON.parse(readFileSync(pemFile, 'utf8'));
const cri = new CriClient({ timeoutMs: 60000 });
const pod = ${JSON.stringify(FIXTURE_POD)};
const labels = { 'io.kubernetes.pod.namespace': pod.namespace, 'io.kubernetes.pod.name': pod.name, 'io.kubernetes.pod.uid': pod.uid };
const sandboxConfig = {
  metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid, attempt: 0 },
  hostname: pod.name,
  logDirectory: '/var/log/pods/' + pod.namespace + '_' + pod.name + '_' + pod.uid,
  labels,
  linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
};
const sb = await cri.runPodSandbox(sandboxConfig);
const run = async (name, attempt, script, extra = {}) => {
  const id = await cri.createContainer(sb, {
    metadata: { name, attempt },
    image: { image },
    command: ['sh', '-c', script],
    labels: { ...labels, 'io.kubernetes.container.name': name },
    annotations: { 'io.kubernetes.container.restartCount': String(attempt) },
    logPath: name + '/' + attempt + '.log',
    ...extra,
  }, sandboxConfig);
  await cri.startContainer(id);
  return id;
};
const ids = {};
// A server for exec and port-forward.
ids.main = await run('main', 0, 'mkdir -p /www && echo hello-pf > /www/index.html && echo main-started && exec httpd -f -p 8080 -h /www');
// Reads stdin (attach).
ids.reader = await run('reader', 0, 'echo reader-ready; while read l; do echo "got:$l"; done', { stdin: true });
// Restarted once: the previous instance's log stays.
const first = await run('restarter', 0, 'echo first-run; exit 1');
for (let i = 0; i < 50 && (await cri.containerStatus(first)).status?.state !== 'CONTAINER_EXITED'; i++) await new Promise((r) => setTimeout(r, 100));
ids.restarter = await run('restarter', 1, 'echo second-run; exec sleep 3600');
const server = await startAgentServer({ cri, certPem: pems.certPem, keyPem: pems.keyPem, caPem: pems.caPem, log: (m) => console.log(m), logPollMs: 300 });
writeFileSync('/tmp/agent-fixture.json', JSON.stringify({ sandbox: sb, ids, port: server.port }));
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
`;

/** A follow-up script: creates container `name` in the fixture pod running `script`. */
const ADD_CONTAINER = String.raw`
import { readFileSync } from 'node:fs';
import { CriClient } from '../cri/client.ts';
const [image, name, script] = process.argv.slice(2);
const pod = ${JSON.stringify(FIXTURE_POD)};
const { sandbox } = JSON.parse(readFileSync('/tmp/agent-fixture.json', 'utf8'));
const cri = new CriClient();
const labels = { 'io.kubernetes.pod.namespace': pod.namespace, 'io.kubernetes.pod.name': pod.name, 'io.kubernetes.pod.uid': pod.uid };
const sandboxConfig = {
  metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid, attempt: 0 },
  logDirectory: '/var/log/pods/' + pod.namespace + '_' + pod.name + '_' + pod.uid,
  labels,
};
const id = await cri.createContainer(sandbox, {
  metadata: { name, attempt: 0 }, image: { image }, command: ['sh', '-c', script],
  labels: { ...labels, 'io.kubernetes.container.name': name },
  annotations: { 'io.kubernetes.container.restartCount': '0' }, logPath: name + '/0.log',
}, sandboxConfig);
await cri.startContainer(id);
cri.close();
console.log(id);
`;

const bundle = (source: string): Promise<string> => bundleSnippet(source, HERE);

async function copyIn(driver: DockerNodeDriver, node: string, path: string, content: string): Promise<void> {
  const w = await driver.exec(node, ['sh', '-c', `cat > ${path}`], content);
  if (w.exitCode !== 0) throw new Error(`cannot write ${path} in ${node}: ${w.stderr}`);
}

export interface NodeFixture {
  sandbox: string;
  ids: Record<string, string>;
  port: number;
}

/** Starts the fixture script in the background and waits for its state file. */
export async function startFixture(
  driver: DockerNodeDriver,
  node: string,
  image: string,
  pems: { certPem: string; keyPem: string; caPem: string },
): Promise<NodeFixture> {
  await copyIn(driver, node, '/tmp/agent-fixture.mjs', await bundle(SCRIPT));
  await copyIn(driver, node, '/tmp/agent-fixture-pems.json', JSON.stringify(pems));
  const r = await driver.exec(node, [
    'sh',
    '-c',
    `nohup node /tmp/agent-fixture.mjs ${image} /tmp/agent-fixture-pems.json >/tmp/agent-fixture.log 2>&1 &`,
  ]);
  if (r.exitCode !== 0) throw new Error(`cannot start the fixture: ${r.stderr}`);
  for (let i = 0; i < 300; i++) {
    const s = await driver.exec(node, ['cat', '/tmp/agent-fixture.json']);
    if (s.exitCode === 0 && s.stdout.trim()) return JSON.parse(s.stdout) as NodeFixture;
    await new Promise((res) => setTimeout(res, 200));
  }
  const log = await driver.exec(node, ['cat', '/tmp/agent-fixture.log']);
  throw new Error(`the fixture did not come up:\n${log.stdout}${log.stderr}`);
}

/** Creates and starts another container in the fixture pod; returns its id. */
export async function addContainer(
  driver: DockerNodeDriver,
  node: string,
  image: string,
  name: string,
  script: string,
): Promise<string> {
  await copyIn(driver, node, '/tmp/agent-fixture-add.mjs', await bundle(ADD_CONTAINER));
  const r = await driver.exec(node, ['node', '/tmp/agent-fixture-add.mjs', image, name, script]);
  if (r.exitCode !== 0) throw new Error(`cannot add container ${name}: ${r.stderr}`);
  return r.stdout.trim();
}
