/** `berth image load IMAGE…` (DESIGN.md §3): copy images from the host's Docker into every node. */
import { commonOptions, dataDirFrom, parse } from './args.ts';
import { UsageError } from './usage-error.ts';
import { controlRequest } from './control-client.ts';

export const IMAGE_USAGE = 'berth image load IMAGE… [--data-dir D]    host Docker → every node';

export async function runImage(args: string[], print: (line: string) => void = console.log): Promise<void> {
  const [verb, ...rest] = args;
  if (verb !== 'load')
    throw new UsageError(
      verb === undefined ? 'berth image needs a subcommand' : `unknown image subcommand "${verb}"`,
    );
  const { values, positionals } = parse(rest, commonOptions);
  if (!positionals.length) throw new UsageError('berth image load needs at least one image');
  await controlRequest(dataDirFrom(values), {
    method: 'POST',
    path: '/v1/images/load',
    body: { images: positionals },
    onProgress: print,
  });
  print(`loaded ${positionals.join(', ')} into every node`);
}
