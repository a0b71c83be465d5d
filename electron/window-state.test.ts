import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_STATE,
  MIN_HEIGHT,
  MIN_WIDTH,
  fitToDisplays,
  loadWindowState,
  parseWindowState,
  saveWindowState,
  serializeWindowState,
  type WindowState,
} from './window-state.ts';

const FHD = { x: 0, y: 0, width: 1920, height: 1040 }; // a work area: the taskbar is not in it
const RIGHT = { x: 1920, y: 0, width: 2560, height: 1400 };

test('serialize → parse round-trips, with and without a position', () => {
  const a: WindowState = { bounds: { x: -20, y: 40, width: 1200, height: 800 }, maximized: true };
  assert.deepEqual(parseWindowState(serializeWindowState(a)), a);
  const b: WindowState = { bounds: { width: 1000, height: 700 }, maximized: false };
  assert.deepEqual(parseWindowState(serializeWindowState(b)), b);
});

test('parse rejects malformed state and drops a half position', () => {
  for (const bad of [
    '',
    'nope',
    'null',
    '[]',
    '{"bounds":{"width":800,"height":600}}', // no maximized flag
    '{"bounds":{"width":"800","height":600},"maximized":false}',
    '{"bounds":{"width":0,"height":600},"maximized":false}',
    '{"bounds":{"width":800.5,"height":600},"maximized":false}',
    '{"bounds":{"width":1e9,"height":600},"maximized":false}',
  ])
    assert.equal(parseWindowState(bad), undefined, bad);
  assert.deepEqual(parseWindowState('{"bounds":{"x":5,"width":800,"height":600},"maximized":false}'), {
    bounds: { width: 800, height: 600 },
    maximized: false,
  });
});

test('a window on a display keeps its place and size', () => {
  const s: WindowState = { bounds: { x: 100, y: 50, width: 1200, height: 800 }, maximized: false };
  assert.deepEqual(fitToDisplays(s, [FHD]), s);
  const onRight: WindowState = { bounds: { x: 2000, y: 100, width: 1600, height: 1000 }, maximized: true };
  assert.deepEqual(fitToDisplays(onRight, [FHD, RIGHT]), onRight);
});

test('a window on a display that is gone is centred on the primary one', () => {
  const s: WindowState = { bounds: { x: 2000, y: 100, width: 1600, height: 1000 }, maximized: false };
  assert.deepEqual(fitToDisplays(s, [FHD]), {
    bounds: { x: 160, y: 20, width: 1600, height: 1000 },
    maximized: false,
  });
  // Barely visible (50 px of it on screen) counts as gone too.
  const edge: WindowState = { bounds: { x: 1870, y: 0, width: 800, height: 600 }, maximized: false };
  assert.equal(fitToDisplays(edge, [FHD]).bounds.x, 560);
});

test('too large a window shrinks to its display and is pulled back inside', () => {
  const s: WindowState = { bounds: { x: 1000, y: 500, width: 3000, height: 2000 }, maximized: false };
  assert.deepEqual(fitToDisplays(s, [FHD]).bounds, { x: 0, y: 0, width: 1920, height: 1040 });
  const partly: WindowState = { bounds: { x: 1500, y: 600, width: 1000, height: 700 }, maximized: false };
  assert.deepEqual(fitToDisplays(partly, [FHD]).bounds, { x: 920, y: 340, width: 1000, height: 700 });
});

test('no position: centred; never below the minimum size unless the display is smaller', () => {
  const tiny: WindowState = { bounds: { width: 100, height: 100 }, maximized: false };
  assert.deepEqual(fitToDisplays(tiny, [FHD]).bounds, {
    x: (1920 - MIN_WIDTH) / 2,
    y: (1040 - MIN_HEIGHT) / 2,
    width: MIN_WIDTH,
    height: MIN_HEIGHT,
  });
  const small = { x: 0, y: 0, width: 600, height: 380 };
  assert.deepEqual(fitToDisplays(DEFAULT_STATE, [small]).bounds, { x: 0, y: 0, width: 600, height: 380 });
  assert.deepEqual(fitToDisplays(DEFAULT_STATE, []), DEFAULT_STATE, 'no displays known: unchanged');
});

test('load/save: a missing or corrupt file gives the default; save writes what load reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-winstate-'));
  try {
    const file = join(dir, 'sub', 'window-state.json');
    assert.deepEqual(loadWindowState(file), DEFAULT_STATE);
    const s: WindowState = { bounds: { x: 10, y: 20, width: 900, height: 700 }, maximized: true };
    saveWindowState(file, s);
    assert.deepEqual(loadWindowState(file), s);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), s);
    writeFileSync(file, '{"bounds":');
    assert.deepEqual(loadWindowState(file), DEFAULT_STATE);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
