import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flattenMenu, menuTemplate, type MenuItemSpec } from './menu.ts';
import type { AppCommand } from './contract.ts';

function build(platform: NodeJS.Platform, dev: boolean) {
  const calls: string[] = [];
  const template = menuTemplate({
    platform,
    dev,
    actions: {
      command: (c: AppCommand) => calls.push(`command:${c}`),
      about: () => calls.push('about'),
      docs: () => calls.push('docs'),
    },
  });
  return { template, calls };
}

const item = (menus: MenuItemSpec[], top: string, label: string): MenuItemSpec => {
  const found = menus.find((m) => m.label === top)?.submenu?.find((i) => i.label === label);
  assert.ok(found, `${top} → ${label} missing`);
  return found;
};
const roles = (menus: MenuItemSpec[]): string[] =>
  flattenMenu(menus).flatMap((i) => (i.role ? [i.role] : []));

test('File, Edit, View, Window, Help; File items send the contract commands', () => {
  const { template, calls } = build('linux', false);
  assert.deepEqual(
    template.map((m) => m.label),
    ['File', 'Edit', 'View', 'Window', 'Help'],
  );
  item(template, 'File', 'New Cluster…').click?.();
  item(template, 'File', 'Export Kubeconfig…').click?.();
  item(template, 'Window', 'Clusters').click?.();
  item(template, 'Help', 'Documentation').click?.();
  item(template, 'Help', 'About Berth').click?.();
  assert.deepEqual(calls, [
    'command:new-cluster',
    'command:export-kubeconfig',
    'command:show-clusters',
    'docs',
    'about',
  ]);
  for (const r of [
    'quit',
    'undo',
    'redo',
    'cut',
    'copy',
    'paste',
    'selectAll',
    'zoomIn',
    'zoomOut',
    'resetZoom',
  ])
    assert.ok(roles(template).includes(r), `role ${r}`);
});

test('reload and developer tools only in development', () => {
  const dev = roles(build('linux', true).template);
  const prod = roles(build('linux', false).template);
  for (const r of ['reload', 'forceReload', 'toggleDevTools']) {
    assert.ok(dev.includes(r), `dev has ${r}`);
    assert.ok(!prod.includes(r), `production has no ${r}`);
  }
});

test('macOS: an app menu first with About and Quit; Quit once', () => {
  const { template, calls } = build('darwin', false);
  assert.deepEqual(
    template.map((m) => m.label),
    ['Berth', 'File', 'Edit', 'View', 'Window', 'Help'],
  );
  item(template, 'Berth', 'About Berth').click?.();
  assert.deepEqual(calls, ['about']);
  assert.equal(roles(template).filter((r) => r === 'quit').length, 1);
});

test('accelerators are unique and every item does something', () => {
  for (const platform of ['linux', 'darwin', 'win32'] as const)
    for (const dev of [false, true]) {
      const all = flattenMenu(build(platform, dev).template);
      const acc = all.flatMap((i) => (i.accelerator ? [i.accelerator] : []));
      assert.equal(new Set(acc).size, acc.length, `${platform} dev=${dev}: ${acc.join(', ')}`);
      for (const i of all)
        assert.ok(i.type === 'separator' || i.role || i.click || i.submenu, JSON.stringify(i));
    }
});
