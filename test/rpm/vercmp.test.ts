import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitEvr } from '../../src/rpm/derive.ts';
import { rpmvercmp } from '../../src/rpm/index.ts';

test('rpmvercmp orders versions as rpm does', () => {
  // [a, b, expected] from rpm's own test-suite conventions.
  const cases: [string, string, number][] = [
    ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1], ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1],
    ['2.0.1a', '2.0.1', 1], ['5.5p1', '5.5p2', -1], ['5.5p10', '5.5p1', 1], ['10xyz', '10.1xyz', -1],
    ['xyz10', 'xyz10.1', -1], ['xyz.4', '8', -1], ['8', 'xyz.4', 1], ['1.05', '1.5', 0], ['1.0', '1', 1],
    ['2.50', '2.5', 1], ['fc4', 'fc.4', 0], ['FC5', 'fc4', -1], ['2a', '2.0', -1], ['1.0a', '1.0', 1],
    ['1.0~rc1', '1.0', -1], ['1.0~rc1', '1.0~rc2', -1], ['1.0~rc1~git123', '1.0~rc1', -1], ['1.0', '1.0~rc1', 1],
    ['1.0^', '1.0', 1], ['1.0^git1', '1.0', 1], ['1.0^git1', '1.01', -1], ['1.0^git1', '1.0^git2', -1],
    ['1.0^git1~pre', '1.0^git1', -1], ['1.0~rc1^git1', '1.0~rc1', 1], ['1.0^git1', '1.0~rc1', 1],
  ];
  for (const [a, b, want] of cases) assert.equal(rpmvercmp(a, b), want, `${a} vs ${b}`);
});

test('splitEvr follows createrepo_c', () => {
  assert.deepEqual(splitEvr(''), {});
  assert.deepEqual(splitEvr('1.0'), { epoch: '0', ver: '1.0' });
  assert.deepEqual(splitEvr('1.0-2.el8'), { epoch: '0', ver: '1.0', rel: '2.el8' });
  assert.deepEqual(splitEvr('3:1.0-2-3'), { epoch: '3', ver: '1.0', rel: '2-3' });
  assert.deepEqual(splitEvr(':1.0'), { epoch: '0', ver: '1.0' });
  assert.equal(splitEvr('x:1.0'), undefined, 'a non-numeric epoch drops the dependency');
  assert.equal(splitEvr('1a:1.0'), undefined);
});
