/**
 * The `berth` command (DESIGN.md §3). Each subcommand lives in its own file; this one dispatches.
 */
import { runUp } from './up.ts';
import { runDown, runDelete } from './down.ts';
import { runKubeconfig } from './kubeconfig.ts';
import { UsageError } from './usage-error.ts';
import { NODE_USAGE, runNode } from './node.ts';
import { IMAGE_USAGE, runImage } from './image.ts';
import { USER_USAGE, runUser } from './user.ts';

const USAGE = `berth — a local multi-node Kubernetes-compatible cluster

Usage:
  berth up [--name N] [--nodes K] [--driver docker|qemu|simulated] [--data-dir D] [--api-port P]
  berth kubeconfig [--user U] [--data-dir D]
  ${NODE_USAGE}
  ${IMAGE_USAGE}
  ${USER_USAGE}
  berth serve [--port P] [--data-dir D]     the GUI in a browser (127.0.0.1, token in the printed URL)
  berth start [--port P] [--browser]        the app with the "default" cluster (npm start)
  berth down [--data-dir D]
  berth delete [--data-dir D]

Every subcommand takes --data-dir D to pick the cluster (default: the per-user app data folder of the
cluster named by --name, "default" unless given).`;

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'up':
        return await runUp(rest);
      case 'down':
        return await runDown(rest);
      case 'delete':
        return await runDelete(rest);
      case 'kubeconfig':
        return await runKubeconfig(rest);
      case 'node':
        return await runNode(rest);
      case 'image':
        return await runImage(rest);
      case 'user':
        return await runUser(rest);
      case 'start':
        return await (await import('./start.ts')).runStart(rest);
      case 'serve':
        // Loaded on demand: the GUI server pulls in the Kubernetes client library.
        return await (await import('./serve.ts')).runServe(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`berth: ${msg}`);
    if (e instanceof UsageError) console.error(`\n${USAGE}`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
