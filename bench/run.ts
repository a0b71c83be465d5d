/** Runs the benchmarks named on the command line (default: all of them), one after another. */
const all = [
  'store',
  'api-load',
  'idle-rss',
  'scale',
  'cluster-create',
  'pod-start',
  'dns',
  'service-latency',
  'streams',
  'gui-list',
];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : all;
for (const name of wanted) {
  if (!all.includes(name)) throw new Error(`unknown benchmark ${name}; known: ${all.join(', ')}`);
  console.log(`\n=== ${name} (${new Date().toISOString()})`);
  await import(`./${name}.ts`);
}
export {};
