// The YAML language worker (monaco-yaml), bundled by Vite as its own worker file (see setup.ts).
import 'monaco-yaml/yaml.worker.js';
