import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptTraceState, formatTraceParent, parseTraceParent, MAX_TRACESTATE_LENGTH,
} from '../../src/rpc/trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('traceparent: the spec example parses, and formats back to itself', () => {
  const value = `00-${TRACE}-${SPAN}-01`;
  assert.deepEqual(parseTraceParent(value), { traceId: TRACE, spanId: SPAN, flags: 1 });
  assert.equal(formatTraceParent(TRACE, SPAN, 1), value);
  assert.deepEqual(parseTraceParent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, flags: 0 });
});

test('traceparent: formatting writes only the sampled flag (version 00 defines no other)', () => {
  assert.equal(formatTraceParent(TRACE, SPAN, 0xff), `00-${TRACE}-${SPAN}-01`);
  assert.equal(formatTraceParent(TRACE, SPAN, 0x02), `00-${TRACE}-${SPAN}-00`);
});

test('traceparent: a later version is read, whatever follows its flags ignored', () => {
  assert.deepEqual(parseTraceParent(`01-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, flags: 1 });
  assert.deepEqual(parseTraceParent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`), { traceId: TRACE, spanId: SPAN, flags: 1 });
  assert.equal(parseTraceParent(`cc-${TRACE}-${SPAN}-01x`), undefined, 'after the flags, a future version continues with a dash');
});

test('traceparent: anything invalid is undefined, never a throw', () => {
  const bad: unknown[] = [
    undefined, null, 42, {}, '', 'garbage',
    `ff-${TRACE}-${SPAN}-01`, // version ff is forbidden
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 is exactly 55 characters
    `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    `00-${TRACE}-${SPAN.toUpperCase()}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE.slice(1)}-${SPAN}0-01`, // shifted separators
    `00_${TRACE}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-0g`,
    `0g-${TRACE}-${SPAN}-01`,
    `00-${TRACE.slice(0, 31)}z-${SPAN}-01`,
    ` 00-${TRACE}-${SPAN}-0`,
  ];
  for (const v of bad) assert.equal(parseTraceParent(v), undefined, JSON.stringify(v));
});

test('tracestate: passed on within the length limit, dropped beyond it or with line breaks', () => {
  assert.equal(acceptTraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'), 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
  assert.equal(acceptTraceState('a='.padEnd(MAX_TRACESTATE_LENGTH, 'x')), 'a='.padEnd(MAX_TRACESTATE_LENGTH, 'x'));
  assert.equal(acceptTraceState('a='.padEnd(MAX_TRACESTATE_LENGTH + 1, 'x')), undefined);
  assert.equal(acceptTraceState('a=1\r\nb=2'), undefined);
  assert.equal(acceptTraceState(''), undefined);
  assert.equal(acceptTraceState(7), undefined);
});
