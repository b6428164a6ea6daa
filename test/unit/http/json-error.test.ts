import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonErrorOffset, lineColumn } from '../../../src/http/json-error.ts';

/** V8's "at position N", or undefined when its message names no position. */
function v8Position(text: string): number | undefined {
  try {
    JSON.parse(text);
  } catch (err) {
    const m = /at position (\d+)/.exec((err as Error).message);
    return m === null ? undefined : Number(m[1]);
  }
  assert.fail(`${JSON.stringify(text)} is valid JSON`);
}

test('the offset of the first character that makes the text invalid (hand-computed)', () => {
  const table: [string, number][] = [
    ['[1,}', 3],
    ['{x', 1],
    ['{"a":1,}', 7],
    ['{"a"}', 4],
    ['{"a" 1}', 5],
    ['{"a":1 "b":2}', 7],
    ['{"a":1,"b"}', 10],
    ['{,}', 1],
    ['[,]', 1],
    ['[1,2,,3]', 5],
    ['[1 2]', 3],
    ['[true false]', 6],
    ['[1]]', 3],
    ['[1] x', 4],
    ['{"a":1}}', 7],
    ['1 2', 2],
    ['x', 0],
    ["'a'", 0],
    ['NaN', 0],
    ['Infinity', 0],
    ['.5', 0],
    ['+1', 0],
    ['trux', 3],
    ['truex', 4],
    ['{"a":tru}', 8],
    ['01', 1],
    ['00', 1],
    ['-01', 2],
    ['0x10', 1],
    ['"\\x"', 2], // bad escape: the character after the backslash
    ['{"\\q":1}', 3],
    ['"a\nb"', 2], // raw control characters in a string
    ['"a\tb"', 2],
    ['"\u0000"', 1],
    ['[1,\n2,\n}', 7],
    ['\u00a0 1', 0], // only space, tab, LF and CR are JSON whitespace
  ];
  for (const [text, offset] of table) assert.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
});

test('text that ends too early gives its length', () => {
  const table: [string, number][] = [
    ['', 0],
    ['  ', 2],
    ['nul', 3],
    ['tru', 3],
    ['"abc', 4],
    ['"abc\\"', 6],
    ['"\\', 2],
    ['[', 1],
    ['[1,', 3],
    ['{', 1],
    ['{"a":', 5],
    ['{"a":1', 6],
  ];
  for (const [text, offset] of table) assert.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
});

test('incomplete numbers: the offset of the character where the number breaks off', () => {
  const table: [string, number][] = [
    ['-', 1], // ends too early: its length
    ['-a', 1],
    ['[-]', 2],
    ['-Infinity', 1],
    ['1.', 2],
    ['1.e3', 2],
    ['1e', 2],
    ['1e+', 3],
    ['[1.]', 3],
  ];
  for (const [text, offset] of table) assert.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
});

test('bad \\u escapes: the offset of the first character that is not a hex digit', () => {
  const table: [string, number][] = [
    ['"\\u12g4"', 5],
    ['"\\u12"', 5],
    ['"\\u12', 5], // ends too early: its length
    ['"\\uzzzz"', 3],
  ];
  for (const [text, offset] of table) assert.equal(jsonErrorOffset(text), offset, JSON.stringify(text));
});

test('agrees with V8 wherever V8 names a position', () => {
  const inputs = [
    '{x', '{"a":1,}', '{,}', '{', '{"a"}', '{"a" 1}', '{"a":1 "b":2}', '{"a":1,"b"}', '{"a":1}}',
    '[1 2]', '[true false]', '[1]]', '[1] x', '1 2', 'truex', 'nulll', '0x10', '01', '00', '-01',
    '"abc', '"abc\\"', '"\\x"', '{"\\q":1}', '"a\nb"', '"a\tb"', '"\u0000"', '"\u001f"',
    '{\n  "a": 1,\n  "b" 2\n}', '[\n1,\n2\n3]',
  ];
  for (const text of inputs) {
    const at = v8Position(text);
    assert.notEqual(at, undefined, `V8 names no position for ${JSON.stringify(text)}`);
    assert.equal(jsonErrorOffset(text), at, JSON.stringify(text));
  }
});

test('agrees with V8 on incomplete numbers and bad \\u escapes', () => {
  for (const text of ['-', '-a', '[-]', '-Infinity', '1.', '1.e3', '1e', '1e+', '"\\u12g4"', '"\\u12"']) {
    const at = v8Position(text);
    assert.notEqual(at, undefined, `V8 names no position for ${JSON.stringify(text)}`);
    assert.equal(jsonErrorOffset(text), at, JSON.stringify(text));
  }
});

test('valid JSON gives the text length', () => {
  for (const text of ['0', '-0', '1.5e-3', '-12E+2', 'true', 'false', 'null', '"x"', '""', '[]', '{}', ' [ ] ', '\t{"a" : [1, {"b": null}]}\r\n', '"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"', '"é ☃"']) {
    JSON.parse(text); // sanity: really valid
    assert.equal(jsonErrorOffset(text), text.length, JSON.stringify(text));
  }
});

test('deeply nested malformed JSON still gives an offset', () => {
  const text = '['.repeat(100_000);
  assert.equal(jsonErrorOffset(text), text.length);
});

test('lineColumn is 1-based and counts lines by LF', () => {
  assert.equal(lineColumn('{"a":1,}', 0), 'line 1 column 1');
  assert.equal(lineColumn('{"a":1,}', 7), 'line 1 column 8');
  assert.equal(lineColumn('[1,\n2,\n}', 7), 'line 3 column 1');
  assert.equal(lineColumn('{\n  "a": x\n}', 9), 'line 2 column 8');
  assert.equal(lineColumn('a\r\nb', 3), 'line 2 column 1');
  assert.equal(lineColumn('', 0), 'line 1 column 1');
  assert.equal(lineColumn('ab', 99), 'line 1 column 3'); // past the end: where the text ends
});
