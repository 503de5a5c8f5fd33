// @ts-self-types="./unclaimed.d.ts"

/**
 * Values dropped undelivered (a receiver closed or a channel reset with
 * values still buffered) may hold channels and streams. Nobody will ever see
 * them, so they are reset with `UNCLAIMED` instead of staying open forever.
 */
import { unclaimedError } from '../errors.js';
import { AbstractReceiver, AbstractSender, kReset } from './ends.js';

/** A dropped value is walked this deep and this wide at most (it may be huge or hostile). */
const MAX_DEPTH = 64;
const MAX_NODES = 10_000;

export function disposeValue(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const seen = new Set<object>();
  const stack: [unknown, number][] = [[value, 0]];
  let budget = MAX_NODES;
  while (stack.length > 0 && budget-- > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null || seen.has(node)) continue;
    seen.add(node);
    if (node instanceof AbstractSender) {
      node.abort(unclaimedError());
      continue;
    }
    if (node instanceof AbstractReceiver) {
      node[kReset](unclaimedError());
      continue;
    }
    if (typeof ReadableStream !== 'undefined' && node instanceof ReadableStream) {
      if (!node.locked) node.cancel(unclaimedError()).catch(() => {});
      continue;
    }
    if (typeof WritableStream !== 'undefined' && node instanceof WritableStream) {
      if (!node.locked) node.abort(unclaimedError()).catch(() => {});
      continue;
    }
    if (depth >= MAX_DEPTH || ArrayBuffer.isView(node) || node instanceof ArrayBuffer) continue;
    if (node instanceof Map) {
      for (const [k, v] of node) stack.push([k, depth + 1], [v, depth + 1]);
    } else if (node instanceof Set || Array.isArray(node)) {
      for (const v of node) stack.push([v, depth + 1]);
    } else {
      const proto = Object.getPrototypeOf(node);
      if (proto !== Object.prototype && proto !== null && !(node instanceof Error)) continue;
      for (const key of Object.keys(node)) stack.push([(node as Record<string, unknown>)[key], depth + 1]);
    }
  }
}
