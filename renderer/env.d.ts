/// <reference types="vite/client" />
import type { BerthBridge } from '../electron/contract.ts';

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

declare global {
  interface Window {
    /** Set by the Electron preload (electron/preload.ts); absent in browser mode. */
    berth?: BerthBridge;
  }
}

// strictTemplates rejects unknown attributes; data-* attributes (test ids, row keys) are always valid HTML.
declare module 'vue' {
  interface HTMLAttributes {
    [dataAttribute: `data-${string}`]: string | number | boolean | undefined;
  }
}
