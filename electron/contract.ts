/**
 * The typed IPC contract between the renderer and the main process (types only). The definitions live
 * in core/gui/contract.ts so that core/ (which must never import electron/) can implement them; this
 * file is the one place electron/ and renderer/ import them from.
 */
export type * from '../core/gui/contract.ts';
