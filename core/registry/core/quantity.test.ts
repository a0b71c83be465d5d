import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareQuantities, formatQuantity, isQuantity, parseQuantity } from './quantity.ts';

test('parses and canonicalises quantities like resource.Quantity', () => {
  const cases: [string, string][] = [
    ['100m', '100m'],
    ['1000m', '1'],
    ['0.5', '500m'],
    ['0.1', '100m'],
    ['1', '1'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['2e3', '2e3'],
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Ki', '512'],
    ['128974848', '128974848'],
    ['129e6', '129e6'],
    ['123Mi', '123Mi'],
    ['1M', '1M'],
    ['0', '0'],
    ['-1', '-1'],
    ['1.0000000001', '1000000001n'],
  ];
  for (const [input, want] of cases) assert.equal(formatQuantity(input), want, input);
});

test('values and milli-values', () => {
  assert.equal(parseQuantity('100m').value, 0.1);
  assert.equal(parseQuantity('100m').milli, 100n);
  assert.equal(parseQuantity('1Gi').value, 1073741824);
  assert.equal(parseQuantity('2').milli, 2000n);
  assert.equal(parseQuantity('1n').milli, 1n); // rounded up
});

test('rejects malformed quantities', () => {
  for (const bad of ['', 'abc', '1.2.3', '1Gb', '1 Gi', ' 1', '1i', '--1', 'Mi'])
    assert.equal(isQuantity(bad), false, bad);
  for (const good of ['1', '+1', '.5', '5.', '1e-3', '1E3', '10Ei'])
    assert.equal(isQuantity(good), true, good);
  assert.throws(() => parseQuantity('x'), /quantities must match the regular expression/);
});

test('compares quantities across formats', () => {
  assert.equal(compareQuantities('1Gi', '1G'), 1);
  assert.equal(compareQuantities('500m', '0.5'), 0);
  assert.equal(compareQuantities('1', '2'), -1);
});
