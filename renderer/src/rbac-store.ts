/**
 * The RBAC page's state, kept while other pages are shown: the open tab, what the side panel shows (an
 * object, or else the matrix cell last clicked), and the matrix's last answer.
 */
import { defineStore } from 'pinia';
import { shallowRef } from 'vue';
import type { AccessCell, AccessMatrix, AccessRow, RbacSubject } from '../../electron/contract.ts';
import type { RbacTarget } from './rbac-kinds.ts';

export type RbacTab = 'users' | 'serviceaccounts' | 'roles' | 'bindings' | 'matrix';

export const RBAC_TABS: { tab: RbacTab; title: string }[] = [
  { tab: 'users', title: 'Users' },
  { tab: 'serviceaccounts', title: 'Service accounts' },
  { tab: 'roles', title: 'Roles' },
  { tab: 'bindings', title: 'Bindings' },
  { tab: 'matrix', title: 'Matrix' },
];

export const useRbacStore = defineStore('rbac', () => {
  const tab = shallowRef<RbacTab>('users');
  const opened = shallowRef<RbacTarget | undefined>(undefined);
  /** Set when another view asks for a subject's matrix; the matrix form takes it over. */
  const matrixRequest = shallowRef<{ subject: RbacSubject; namespace?: string; seq: number } | undefined>(
    undefined,
  );
  const matrix = shallowRef<AccessMatrix | undefined>(undefined);
  /** The matrix cell whose grants the side panel shows (when no object is opened over it). */
  const picked = shallowRef<{ row: AccessRow; cell: AccessCell } | undefined>(undefined);
  let seq = 0;

  /** Opens an object in the side panel (over a picked cell: closing it shows the cell again). */
  function open(target: RbacTarget): void {
    opened.value = target;
  }
  function pick(row: AccessRow, cell: AccessCell): void {
    picked.value = { row, cell };
    opened.value = undefined;
  }
  function setMatrix(m: AccessMatrix | undefined): void {
    matrix.value = m;
    picked.value = undefined;
  }
  /** Another cluster: nothing of the last one stays on screen. */
  function reset(): void {
    opened.value = undefined;
    setMatrix(undefined);
  }
  function showMatrix(subject: RbacSubject, namespace?: string): void {
    matrixRequest.value = { subject, ...(namespace ? { namespace } : {}), seq: ++seq };
    tab.value = 'matrix';
  }
  function showTab(t: RbacTab): void {
    tab.value = t;
  }
  return { tab, opened, matrixRequest, matrix, picked, open, pick, setMatrix, reset, showMatrix, showTab };
});
