/**
 * Builds the node image and the busybox test image (cached by content hash), after checking the
 * Docker prerequisites. Used by .ci/run; exits 1 naming what is missing.
 *   node --import tsx core/nodes/docker/build-cli.ts
 */
import Docker from 'dockerode';
import { ensureNodeImages } from './images.ts';
import { checkDockerPrerequisites, formatPrerequisites } from './prereqs.ts';

const docker = new Docker();
const report = await checkDockerPrerequisites({ docker });
console.log(formatPrerequisites(report));
if (!report.ok) process.exit(1);
const t0 = performance.now();
const r = await ensureNodeImages(docker, { progress: (l) => console.log(`  ${l}`) });
const s = ((performance.now() - t0) / 1000).toFixed(1);
console.log(
  `node image ${r.node}, test image ${r.busybox}: ${r.built.length ? `built ${r.built.join(', ')}` : 'cached'} ` +
    `(base ${r.baseImage}) in ${s} s`,
);
