// @ts-self-types="./queue.d.ts"

/**
 * A FIFO ring buffer: O(1) push and shift, no `Array#shift` copies and no
 * `length` writes on the hot path (both are slow in V8). Grows by doubling.
 */
/** Shared by every empty queue until its first push (most queues of a channel stay empty). */
const NONE: never[] = [];

export class Queue<T> {
  private items: (T | undefined)[] = NONE;
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) & (this.items.length - 1)] = item;
    this.size++;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return item;
  }

  /** Removes one occurrence; O(n), used only when a waiter gives up. */
  remove(item: T): boolean {
    const mask = this.items.length - 1;
    for (let i = 0; i < this.size; i++) {
      if (this.items[(this.head + i) & mask] !== item) continue;
      for (let j = i; j < this.size - 1; j++) {
        this.items[(this.head + j) & mask] = this.items[(this.head + j + 1) & mask];
      }
      this.items[(this.head + this.size - 1) & mask] = undefined;
      this.size--;
      return true;
    }
    return false;
  }

  /** Empties the queue and returns what it held, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.size > 0) out.push(this.shift() as T);
    if (this.items.length > 64) this.items = NONE;
    this.head = 0;
    return out;
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(Math.max(8, old.length * 2));
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
