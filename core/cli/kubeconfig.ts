/** `berth kubeconfig [--user U]`: print the kubeconfig of a cluster (admin unless --user is given). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonOptions, dataDirFrom, parse } from './args.ts';
import { clusterFiles } from '../cluster/paths.ts';

export async function runKubeconfig(args: string[]): Promise<void> {
  const { values } = parse(args, { ...commonOptions, user: { type: 'string' } });
  const dir = dataDirFrom(values);
  const path = values.user ? join(dir, 'users', `${values.user}.kubeconfig`) : clusterFiles(dir).kubeconfig;
  if (!existsSync(path)) {
    throw new Error(
      values.user
        ? `no kubeconfig for user "${values.user}" in ${dir} (create the user first with \`berth user create ${values.user}\`)`
        : `no cluster in ${dir} — start one with \`berth up --data-dir ${dir}\``,
    );
  }
  process.stdout.write(readFileSync(path, 'utf8'));
}
