/**
 * The main window's size, position and maximized flag, kept across launches in the user data dir
 * (`window-state.json`). Pure logic (parse, serialize, fit to the displays) plus a small file store;
 * no Electron import, so it is unit-tested under plain Node.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** The normal (not maximized) bounds; x/y absent: let the system place the window. */
  bounds: { x?: number; y?: number; width: number; height: number };
  maximized: boolean;
}

export const DEFAULT_STATE: WindowState = { bounds: { width: 1400, height: 900 }, maximized: false };
export const MIN_WIDTH = 640;
export const MIN_HEIGHT = 400;
/** A saved window must show at least this much of itself on one display to keep its position. */
const MIN_VISIBLE = 100;
/** Sizes beyond this are not screens: a corrupt or hostile file. */
const MAX_SIDE = 100_000;

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Reads a saved state; anything malformed gives undefined (the caller falls back to the default). */
export function parseWindowState(text: string): WindowState | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { bounds, maximized } = v as { bounds?: unknown; maximized?: unknown };
  if (typeof bounds !== 'object' || bounds === null || typeof maximized !== 'boolean') return undefined;
  const { x, y, width, height } = bounds as Record<string, unknown>;
  if (!isInt(width, 1, MAX_SIDE) || !isInt(height, 1, MAX_SIDE)) return undefined;
  const hasPos = isInt(x, -MAX_SIDE, MAX_SIDE) && isInt(y, -MAX_SIDE, MAX_SIDE);
  return { bounds: hasPos ? { x, y, width, height } : { width, height }, maximized };
}

export function serializeWindowState(s: WindowState): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)),
    height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)),
  };
}

/**
 * Fits a saved state to the displays there are now (their work areas; the primary first): the size
 * shrinks to the display it is on (never below the minimum), and a window that would not show at
 * least MIN_VISIBLE px × MIN_VISIBLE px on any display (a display was unplugged, the resolution
 * changed) is centred on the primary display instead.
 */
export function fitToDisplays(state: WindowState, workAreas: readonly Rect[]): WindowState {
  const primary = workAreas[0];
  if (!primary) return state;
  const { x, y } = state.bounds;
  const clampSize = (area: Rect): { width: number; height: number } => ({
    width: Math.max(Math.min(MIN_WIDTH, area.width), Math.min(state.bounds.width, area.width)),
    height: Math.max(Math.min(MIN_HEIGHT, area.height), Math.min(state.bounds.height, area.height)),
  });
  if (x !== undefined && y !== undefined) {
    const rect = { x, y, width: state.bounds.width, height: state.bounds.height };
    let best: Rect | undefined;
    let bestArea = 0;
    for (const area of workAreas) {
      const o = overlap(rect, area);
      if (o.width >= Math.min(MIN_VISIBLE, rect.width) && o.height >= Math.min(MIN_VISIBLE, rect.height)) {
        if (o.width * o.height > bestArea) {
          best = area;
          bestArea = o.width * o.height;
        }
      }
    }
    if (best) {
      const size = clampSize(best);
      // Keep it on that display: pull it back inside when the smaller size still sticks out.
      const nx = Math.min(Math.max(x, best.x), best.x + best.width - size.width);
      const ny = Math.min(Math.max(y, best.y), best.y + best.height - size.height);
      return { bounds: { x: nx, y: ny, ...size }, maximized: state.maximized };
    }
  }
  const size = clampSize(primary);
  return {
    bounds: {
      x: primary.x + Math.floor((primary.width - size.width) / 2),
      y: primary.y + Math.floor((primary.height - size.height) / 2),
      ...size,
    },
    maximized: state.maximized,
  };
}

/** The saved state, or the default when there is none or it is unreadable. */
export function loadWindowState(file: string): WindowState {
  try {
    return parseWindowState(readFileSync(file, 'utf8')) ?? DEFAULT_STATE;
  } catch {
    return DEFAULT_STATE;
  }
}

/** Writes the state (to a temporary file first, then renamed: a crash never leaves half a file). */
export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeWindowState(state));
  renameSync(tmp, file);
}
