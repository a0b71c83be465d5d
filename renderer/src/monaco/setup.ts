/**
 * Monaco + monaco-yaml, bundled by Vite (no CDN): loaded on demand by the editor views (a dynamic
 * import, so the lists paint without it). Workers are Vite `?worker` bundles served from 'self', as the
 * CSP demands. One monaco-yaml instance serves the manifest model (MANIFEST_URI) with the schema the
 * cluster's OpenAPI gives for the kinds in the text (core/gui/openapi-schema.ts).
 */
import * as monaco from 'monaco-editor';
import { configureMonacoYaml, type JSONSchema } from 'monaco-yaml';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import YamlWorker from './yaml.worker.ts?worker';
import type { JsonSchema } from '../../../electron/contract.ts';

declare global {
  // Monaco reads its worker factory from this global.
  var MonacoEnvironment: monaco.Environment | undefined;
}

globalThis.MonacoEnvironment = {
  getWorker(_moduleId: string, label: string): Worker {
    return label === 'yaml' ? new YamlWorker() : new EditorWorker();
  },
};

/** The one model monaco-yaml validates; diff models use other URIs and are not validated. */
export const MANIFEST_URI = monaco.Uri.parse('file:///berth/manifest.yaml');
const SCHEMA_URI = 'file:///berth/schemas/manifest.json';

/**
 * monaco-yaml 5.5 (through monaco-worker-manager) asks `editor.createWebWorker` for a worker by
 * label/moduleId/createData, the API before Monaco 0.5x; Monaco 0.57 takes a Worker. This adapter
 * starts the bundled YAML worker and hands it its createData the way Monaco's own language workers get
 * theirs (a first "ignore" message, then the data).
 */
interface LegacyWorkerOptions {
  createData?: unknown;
  host?: Parameters<typeof monaco.editor.createWebWorker>[0]['host'];
  keepIdleModels?: boolean;
}
const yamlMonaco = {
  ...monaco,
  editor: {
    ...monaco.editor,
    createWebWorker(opts: LegacyWorkerOptions) {
      const worker = new YamlWorker();
      worker.postMessage('ignore');
      worker.postMessage(opts.createData);
      return monaco.editor.createWebWorker({
        worker,
        ...(opts.host ? { host: opts.host } : {}),
        ...(opts.keepIdleModels !== undefined ? { keepIdleModels: opts.keepIdleModels } : {}),
      });
    },
  },
} as unknown as typeof monaco;

const yaml = configureMonacoYaml(yamlMonaco, {
  enableSchemaRequest: false,
  completion: true,
  hover: true,
  validate: true,
  schemas: [],
});

/** Sets the schema of the manifest model (undefined: no schema, only YAML syntax is checked). */
export async function setManifestSchema(schema: JsonSchema | undefined): Promise<void> {
  await yaml.update({
    enableSchemaRequest: false,
    schemas: schema
      ? [{ uri: SCHEMA_URI, fileMatch: [MANIFEST_URI.toString()], schema: schema as JSONSchema }]
      : [],
  });
}

export { monaco };
