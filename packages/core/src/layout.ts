// @ts-self-types="./layout.d.ts"

/**
 * Keeps object layouts alive across major garbage collections.
 *
 * V8 forgets the hidden class (the object layout) of a class once a major GC
 * finds no object of it alive, and throws away the optimized code built on
 * it; the next object gets a new layout and that code is optimized again,
 * often more generically. A request/reply client holds no channel or stream
 * between requests, so every major GC cost the hot paths of the channel and
 * stream classes that: ~10 µs per request/reply over a WebSocket for a whole
 * run after each GC (docs/BENCHMARKS.md, 2026-11-26). One dormant object per
 * class, built by the same constructor, keeps each layout alive.
 */
const kept: object[] = [];

/** Keeps `objects` (dormant, never used) alive for the life of the process. Call once per class, at module load. */
export function keepLayouts(...objects: object[]): void {
  kept.push(...objects);
}
