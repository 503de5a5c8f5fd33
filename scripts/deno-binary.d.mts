/** The path of a deno binary, or undefined when none is installed. */
export function findDeno(): string | undefined;
/** The path of a deno binary; throws with what to run when none is installed. */
export function denoBinary(): string;
