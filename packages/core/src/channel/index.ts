// @ts-self-types="./index.d.ts"

export type { PipeOptions, Receiver, Sender, WaitOptions } from './types.js';
export { isReceiver, isSender } from './ends.js';
export { pipe } from './pipe.js';
export { select, type SelectArm, type SelectResult } from './select.js';
