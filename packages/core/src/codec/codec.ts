// @ts-self-types="./codec.d.ts"

/**
 * Turns one message into bytes and back. Structure goes through superjson
 * (one instance per codec: no global registration), plain JSON values take a
 * fast path that skips it, binary travels out of band as raw bytes, and every
 * channel or stream becomes a numbered reference the session fills in.
 *
 * Payload layout (all integers are varints, see docs/PROTOCOL.md):
 *   flags                 bit 0: superjson envelope (json + meta texts)
 *   attachmentCount, attachmentLength × count
 *   jsonLength            only when bit 0 is set
 *   attachment bytes …
 *   json text             UTF-8
 *   meta text             UTF-8, the rest (only when bit 0 is set)
 */
import { SuperJSON } from 'superjson';
import { AbstractReceiver, AbstractSender } from '../channel/ends.js';
import { MAX_ERROR_CAUSE_DEPTH, MAX_REASON_CHARS, ONE_KEY_META_CACHE, ONE_KEY_META_MAX_KEY_CHARS, SIMPLE_META_CACHE, SIMPLE_META_MAX_CHARS } from '../config.js';
import { knownErrorClasses, ProtocolError } from '../errors.js';
import { allocBytes, ByteReader, readText, utf8Encoder, varintSize, writeAscii, writeVarint } from './bytes.js';
import { analyze, checkJsonDepth, Shape, type RefLeaf } from './depth.js';
import { flatJson } from './flat.js';
import { dropNaNReferences, escapePathKey, refAnnotations, reviveAt, validateMeta, type RefAnnotation } from './meta.js';

export type RefKind = 'sender' | 'receiver' | 'readable' | 'writable';

export interface EncodeContext {
  /**
   * Called once per channel or stream in the value (shared ones once);
   * returns the number that names it on the wire. Throws `TypeError` for an
   * end that cannot be sent (already transferred, locked).
   */
  ref(kind: RefKind, object: object): number;
}

export interface DecodeContext {
  /** The live object for a reference; throws `ProtocolError` for an unknown one. */
  resolve(kind: RefKind, token: number): unknown;
}

export interface EncodedMessage {
  /** The buffer: `offset` bytes of headroom, then the payload. */
  bytes: Uint8Array;
  offset: number;
  /** Payload size (what `maxMessageBytes` limits). */
  byteLength: number;
}

export interface CodecOptions {
  maxNestingDepth: number;
}

const FLAG_RICH = 1;
/** Texts up to this many characters are tried as ASCII, written without TextEncoder. */
const DIRECT_TEXT_MAX = 64;

const typedArrays = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof typedArrays;

const standardErrors: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** An Error on the wire. The fields are the Error's own property names, so superjson's reference paths through them still hold after decoding. */
interface WireError {
  name: string;
  message: string;
  code?: string;
  cause?: unknown;
}

function isWireError(v: unknown): v is WireError {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  for (const key of Object.keys(e)) if (key !== 'name' && key !== 'message' && key !== 'code' && key !== 'cause') return false;
  return typeof e.name === 'string' && typeof e.message === 'string' && (e.code === undefined || typeof e.code === 'string');
}

/** Names of this codec's custom annotations (anything else from a peer is refused). */
const customNames: ReadonlySet<string> = new Set(['S', 'R', 'RS', 'WS', 'B', 'E', 'D']);

/** The annotation of each reference kind; references-only messages carry just these. */
const refNames = { sender: 'S', receiver: 'R', readable: 'RS', writable: 'WS', binary: 'B' } as const;
const refKinds: Readonly<Record<string, RefKind | 'binary'>> = { S: 'sender', R: 'receiver', RS: 'readable', WS: 'writable', B: 'binary' };
const refNameSet: ReadonlySet<string> = new Set(Object.values(refNames));

/**
 * The value with each leaf replaced by its token, copying only the arrays and
 * objects on the way to a leaf (the caller's value is never written to).
 * Plain assignment is safe: a value with a "__proto__" key never takes this way.
 */
function withTokens(value: unknown, leaves: readonly RefLeaf[], tokens: readonly unknown[]): unknown {
  const copy = (container: unknown): Record<string | number, unknown> =>
    Array.isArray(container) ? (container.slice() as unknown as Record<number, unknown>) : { ...(container as Record<string, unknown>) };
  const first = leaves[0] as RefLeaf;
  if (first.path.length === 0) return tokens[0];
  const root = copy(value);
  if (leaves.length === 1 && first.path.length === 1) {
    root[first.path[0] as string | number] = tokens[0];
    return root;
  }
  const copies = new Map<unknown, Record<string | number, unknown>>([[value, root]]);
  leaves.forEach((leaf, i) => {
    let source = value as Record<string | number, unknown>;
    let target = root;
    const last = leaf.path.length - 1;
    for (let k = 0; k < last; k++) {
      const key = leaf.path[k] as string | number;
      const child = source[key] as Record<string | number, unknown>;
      let childCopy = copies.get(child);
      if (childCopy === undefined) {
        childCopy = copy(child);
        copies.set(child, childCopy);
        target[key] = childCopy;
      }
      source = child;
      target = childCopy;
    }
    target[leaf.path[last] as string | number] = tokens[i];
  });
  return root;
}

/** The meta of a message with one reference under a top-level key, by reference kind and key. */
const oneKeyMetas: Record<RefLeaf['kind'], Map<string, string>> = {
  sender: new Map(),
  receiver: new Map(),
  readable: new Map(),
  writable: new Map(),
  binary: new Map(),
};

/** The meta of one reference under a top-level key ({ ...request, ret }): the same few again and again. */
function oneKeyMeta(kind: RefLeaf['kind'], key: string): string {
  const cache = oneKeyMetas[kind];
  let meta = cache.get(key);
  if (meta === undefined) {
    meta = `{"values":{${JSON.stringify(escapePathKey(key))}:[["custom","${refNames[kind]}"]]},"v":1}`;
    if (key.length <= ONE_KEY_META_MAX_KEY_CHARS) {
      if (cache.size >= ONE_KEY_META_CACHE) cache.clear();
      cache.set(key, meta);
    }
  }
  return meta;
}

/**
 * superjson's meta for leaves that are all custom annotations (what
 * `refAnnotations` reads back). Built as superjson builds it, one object per
 * container with children flattened into "key.sub" entries, so the engine
 * orders keys the same way (integer-like keys first at each level).
 */
function refsMeta(leaves: readonly RefLeaf[]): string {
  const first = leaves[0] as RefLeaf;
  if (first.path.length === 0) return `{"values":[["custom","${refNames[first.kind]}"]],"v":1}`;
  if (leaves.length === 1 && first.path.length === 1) return oneKeyMeta(first.kind, String(first.path[0]));
  interface Node {
    children: Map<string, Node>;
    name?: string;
  }
  const root: Node = { children: new Map() };
  for (const leaf of leaves) {
    let node = root;
    for (const key of leaf.path) {
      const k = escapePathKey(String(key));
      let child = node.children.get(k);
      if (child === undefined) {
        child = { children: new Map() };
        node.children.set(k, child);
      }
      node = child;
    }
    node.name = refNames[leaf.kind];
  }
  const flatten = (node: Node): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, child] of node.children) {
      if (child.name !== undefined) out[key] = [['custom', child.name]];
      else for (const [sub, tree] of Object.entries(flatten(child))) out[`${key}.${sub}`] = tree;
    }
    return out;
  };
  return JSON.stringify({ values: flatten(root), v: 1 });
}

function badMessage(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(message, cause === undefined ? { code: 'BAD_MESSAGE' } : { code: 'BAD_MESSAGE', cause });
}

/** Binary copies into a fresh buffer so the value owns its memory (not a view into a frame). */
function copyBytes(view: Uint8Array): ArrayBuffer {
  // new Uint8Array(view) always copies (a Node Buffer's slice() would not).
  return new Uint8Array(view).buffer;
}

const noAttachments: Uint8Array[] = [];

export class Codec {
  private readonly sj = new SuperJSON();
  private readonly maxDepth: number;
  /** Per-call state; encode/decode are synchronous, so one slot suffices. */
  private encoding: { ctx: EncodeContext | undefined; attachments: Uint8Array[] } | undefined;
  private decoding:
    | { ctx: DecodeContext | undefined; attachments: Uint8Array[]; firstToken: number; first: unknown; refs: Map<number, unknown> | undefined; hasErrors: boolean }
    | undefined;
  /** How deep in a `cause` chain each Error being encoded sits. */
  private errorDepth = new WeakMap<Error, number>();

  constructor(options: CodecOptions) {
    this.maxDepth = options.maxNestingDepth;
    this.registerTransformers();
  }

  /**
   * Encodes `value` into one buffer, leaving `headroom` free bytes in front
   * (where the session writes its frame header, saving a copy).
   */
  encode(value: unknown, ctx?: EncodeContext, headroom = 0, maxDepth = this.maxDepth): EncodedMessage {
    // A flat request ({ i, ret }) nests two levels at most.
    const flat = maxDepth >= 2 ? flatJson(value) : undefined;
    if (flat !== undefined) {
      if (flat.ref === undefined) return this.output(flat.text, undefined, noAttachments, headroom);
      const token = this.refToken(flat.ref.kind, flat.ref.value, ctx);
      return this.output(flat.text + token + flat.tail, oneKeyMeta(flat.ref.kind, flat.ref.key), noAttachments, headroom);
    }
    const leaves: RefLeaf[] = [];
    const shape = analyze(value, maxDepth, leaves);
    const attachments: Uint8Array[] = [];
    let jsonText: string;
    let metaText: string | undefined;
    if (shape === Shape.Json) {
      jsonText = JSON.stringify(value);
    } else if (shape === Shape.Refs) {
      // JSON plus references (a request carrying its Ret): superjson's format, without superjson.
      const tokens = leaves.map((leaf) => (leaf.kind === 'binary' ? this.binaryToken(leaf.value as ArrayBuffer | ArrayBufferView, attachments) : this.refToken(leaf.kind, leaf.value, ctx)));
      jsonText = JSON.stringify(withTokens(value, leaves, tokens));
      metaText = refsMeta(leaves);
    } else {
      // Saved and restored: a getter in the value may send on the same session meanwhile.
      const outer = this.encoding;
      const outerErrorDepth = this.errorDepth;
      this.encoding = { ctx, attachments };
      this.errorDepth = new WeakMap();
      let out: ReturnType<SuperJSON['serialize']>;
      try {
        out = this.sj.serialize(value);
      } catch (error) {
        if (error instanceof TypeError || error instanceof RangeError) throw error;
        throw new TypeError(`value cannot be sent: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      } finally {
        this.encoding = outer;
        this.errorDepth = outerErrorDepth;
      }
      if (out.meta?.referentialEqualities) dropNaNReferences(out.json, out.meta);
      jsonText = out.json === undefined ? 'null' : JSON.stringify(out.json);
      metaText = out.meta === undefined ? '{}' : JSON.stringify(out.meta);
    }
    return this.output(jsonText, metaText, attachments, headroom);
  }

  /** The payload of the JSON and meta texts and the attachments, `headroom` bytes in. */
  private output(jsonText: string, metaText: string | undefined, attachments: Uint8Array[], headroom: number): EncodedMessage {
    // Short ASCII texts (most messages) are written straight into the output.
    if (jsonText.length + (metaText?.length ?? 0) <= DIRECT_TEXT_MAX) {
      const out = this.layout(attachments, jsonText.length, metaText?.length, headroom);
      if (writeAscii(jsonText, out.bytes, out.textAt) && (metaText === undefined || writeAscii(metaText, out.bytes, out.textAt + jsonText.length))) {
        return { bytes: out.bytes, offset: headroom, byteLength: out.byteLength };
      }
    }
    // Otherwise through a reused scratch buffer: encodeInto is far cheaper than encode().
    const jsonLength = this.encodeText(jsonText, 0);
    const metaLength = metaText === undefined ? 0 : this.encodeText(metaText, jsonLength);
    const out = this.layout(attachments, jsonLength, metaText === undefined ? undefined : metaLength, headroom);
    out.bytes.set(this.scratch.subarray(0, jsonLength + metaLength), out.textAt);
    return { bytes: out.bytes, offset: headroom, byteLength: out.byteLength };
  }

  /** Allocates the output and writes the header and attachments; the texts go at `textAt`. */
  private layout(attachments: Uint8Array[], jsonLength: number, metaLength: number | undefined, headroom: number): { bytes: Uint8Array; textAt: number; byteLength: number } {
    let headerSize = 1 + varintSize(attachments.length);
    let attachmentBytes = 0;
    for (const a of attachments) {
      headerSize += varintSize(a.byteLength);
      attachmentBytes += a.byteLength;
    }
    if (metaLength !== undefined) headerSize += varintSize(jsonLength);
    const byteLength = headerSize + attachmentBytes + jsonLength + (metaLength ?? 0);
    const bytes = allocBytes(headroom + byteLength);
    let o = headroom;
    bytes[o++] = metaLength === undefined ? 0 : FLAG_RICH;
    o = writeVarint(bytes, o, attachments.length);
    for (const a of attachments) o = writeVarint(bytes, o, a.byteLength);
    if (metaLength !== undefined) o = writeVarint(bytes, o, jsonLength);
    for (const a of attachments) {
      bytes.set(a, o);
      o += a.byteLength;
    }
    return { bytes, textAt: o, byteLength };
  }

  /** Encodes into a buffer of its own (for tests, handshakes and control values). */
  encodeToBytes(value: unknown, ctx?: EncodeContext): Uint8Array {
    return this.encode(value, ctx).bytes;
  }

  private scratch = new Uint8Array(4096);
  /** Reads every payload's header (see ByteReader). */
  private readonly reader = new ByteReader();

  /** UTF-8 encodes `text` into the scratch buffer at `at`, growing it as needed; returns the byte count. */
  private encodeText(text: string, at: number): number {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const need = at + text.length * 3;
    if (need > this.scratch.length) {
      const grown = new Uint8Array(Math.max(need, this.scratch.length * 2));
      grown.set(this.scratch.subarray(0, at));
      this.scratch = grown;
    }
    return utf8Encoder.encodeInto(text, this.scratch.subarray(at)).written;
  }

  /** Decodes a payload; anything malformed is a `ProtocolError`. */
  decode(payload: Uint8Array, ctx?: DecodeContext): unknown {
    // Released before anything is revived (a getter or transformer may decode too), and
    // when the header is malformed: the kept reader must not hold on to the payload.
    const r = this.reader.read(payload);
    let attachments: Uint8Array[] = noAttachments;
    let jsonBytes: Uint8Array;
    let simple: readonly RefAnnotation[] | undefined;
    let metaBytes: Uint8Array | undefined;
    let rich: boolean;
    let count: number;
    try {
      const flags = r.u8();
      if (flags & ~FLAG_RICH) throw badMessage(`unknown message flags ${flags}`);
      count = r.varint();
      if (count > r.remaining) throw badMessage('attachment count exceeds the message');
      rich = (flags & FLAG_RICH) !== 0;
      let jsonLength: number;
      if (count > 0) {
        const lengths: number[] = [];
        let total = 0;
        for (let i = 0; i < count; i++) {
          const len = r.varint();
          lengths.push(len);
          total += len;
        }
        jsonLength = rich ? r.varint() : -1;
        if (total > r.remaining) throw badMessage('attachments exceed the message');
        attachments = lengths.map((len) => r.bytes(len));
      } else {
        jsonLength = rich ? r.varint() : -1;
      }
      jsonBytes = rich ? r.bytes(jsonLength) : r.rest();
      // A meta seen lately is matched in place: no view, no text, no hashing (a Ret request's is always the same).
      simple = rich ? this.recentMeta(payload, r.pos) : undefined;
      metaBytes = rich && simple === undefined ? r.rest() : undefined;
    } finally {
      r.release();
    }

    // Fewer bytes than the limit cannot nest deeper than it.
    if (jsonBytes.byteLength > this.maxDepth) checkJsonDepth(jsonBytes, this.maxDepth);
    let json: unknown;
    let meta: unknown;
    try {
      json = JSON.parse(readText(jsonBytes));
      if (metaBytes) {
        const metaText = readText(metaBytes);
        simple = this.simpleMetas.get(metaText);
        if (simple !== undefined) this.rememberRecentMeta(metaBytes, simple);
        else {
          // superjson's annotations mirror the value's shape, two levels per level at most.
          checkJsonDepth(metaBytes, 2 * this.maxDepth + 8);
          meta = JSON.parse(metaText);
          simple = refAnnotations(meta, refNameSet);
          if (simple !== undefined) {
            this.rememberSimpleMeta(metaText, simple);
            this.rememberRecentMeta(metaBytes, simple);
          }
        }
      }
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw badMessage('message is not valid UTF-8 JSON', error);
    }
    if (!rich) {
      if (count !== 0) throw badMessage('attachments in a plain JSON message');
      return json;
    }
    this.decoding = { ctx, attachments, firstToken: 0, first: undefined, refs: undefined, hasErrors: false };
    if (simple !== undefined) {
      // References only (what a Ret request carries): revived in place, superjson not needed.
      try {
        for (const { path, name } of simple) {
          const kind = refKinds[name] as RefKind | 'binary';
          json = reviveAt(json, path, (token) => (kind === 'binary' ? this.reviveBinary(token) : this.resolveRef(kind, token)));
        }
        return json;
      } catch (error) {
        if (error instanceof ProtocolError) throw error;
        throw badMessage(`malformed message: ${(error as Error)?.message ?? String(error)}`, error);
      } finally {
        this.decoding = undefined;
      }
    }
    validateMeta(json, meta, customNames);
    try {
      const value = this.sj.deserialize({ json: json as never, meta: meta as never }, { inPlace: true });
      return this.decoding.hasErrors ? rebuildErrors(value) : value;
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw badMessage(`malformed message: ${(error as Error)?.message ?? String(error)}`, error);
    } finally {
      this.decoding = undefined;
    }
  }

  /**
   * References-only metas already read, by their text: a peer sending many
   * requests of one shape sends the same meta each time. Bounded, per codec
   * (so per session); the annotations are never modified after parsing.
   */
  private readonly simpleMetas = new Map<string, readonly RefAnnotation[]>();
  /** The references-only meta decoded last, as bytes (a copy), and its annotations. */
  private lastMetaBytes: Uint8Array | undefined;
  private lastMeta: readonly RefAnnotation[] | undefined;

  /** The references-only meta at `payload[from…]`, if it is the one remembered last. */
  private recentMeta(payload: Uint8Array, from: number): readonly RefAnnotation[] | undefined {
    const bytes = this.lastMetaBytes;
    if (bytes === undefined || payload.length - from !== bytes.length) return undefined;
    for (let i = 0; i < bytes.length; i++) if (payload[from + i] !== bytes[i]) return undefined;
    return this.lastMeta;
  }

  private rememberRecentMeta(bytes: Uint8Array, annotations: readonly RefAnnotation[]): void {
    // Short ones only, as for the cache by text (ASCII: one byte per character).
    if (bytes.byteLength > SIMPLE_META_MAX_CHARS) return;
    this.lastMetaBytes = bytes.slice();
    this.lastMeta = annotations;
  }

  private rememberSimpleMeta(text: string, annotations: readonly RefAnnotation[]): void {
    // Short ones only: a peer must not get to park whole messages here.
    if (text.length > SIMPLE_META_MAX_CHARS) return;
    if (this.simpleMetas.size >= SIMPLE_META_CACHE) this.simpleMetas.clear();
    this.simpleMetas.set(text, annotations);
  }

  /** The wire number of a channel or stream (the session's `ref`). */
  private refToken(kind: RefKind, v: object, ctx: EncodeContext | undefined): number {
    if (!ctx) throw new TypeError(`a ${kind} cannot be sent here`);
    return ctx.ref(kind, v);
  }

  /** A channel or stream reference from a peer, resolved to the live object. */
  private resolveRef(kind: RefKind, token: unknown): object {
    if (typeof token !== 'number' || !Number.isSafeInteger(token) || token <= 0) {
      throw badMessage(`malformed ${kind} reference`);
    }
    const decoding = this.decoding;
    if (!decoding?.ctx) throw badMessage(`unexpected ${kind} reference`);
    // superjson annotates every occurrence of a shared object; resolve each stream once.
    // Most messages name one (a Ret): the first is kept without a Map.
    if (decoding.firstToken === token) return decoding.first as object;
    const known = decoding.refs?.get(token);
    if (known !== undefined) return known as object;
    const live = decoding.ctx.resolve(kind, token) as object;
    if (decoding.firstToken === 0) {
      decoding.firstToken = token;
      decoding.first = live;
    } else (decoding.refs ??= new Map()).set(token, live);
    return live;
  }

  /** Binary goes out of band: the JSON holds "index" (Uint8Array), "index:Type" (other views) or "index:" (ArrayBuffer). */
  private binaryToken(v: ArrayBuffer | ArrayBufferView, attachments: Uint8Array[]): string {
    const index = attachments.length;
    if (v instanceof ArrayBuffer) {
      attachments.push(new Uint8Array(v));
      return `${index}:`;
    }
    attachments.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    if (v instanceof Uint8Array) return String(index);
    return `${index}:${v.constructor.name}`;
  }

  private reviveBinary(token: unknown): ArrayBuffer | ArrayBufferView {
    if (typeof token !== 'string' || !/^(0|[1-9]\d{0,8})(:[A-Za-z0-9]*)?$/.test(token)) throw badMessage('malformed binary reference');
    const colon = token.indexOf(':');
    const index = Number(colon < 0 ? token : token.slice(0, colon));
    const view = this.decoding?.attachments[index];
    if (!Number.isInteger(index) || view === undefined) throw badMessage('binary reference out of range');
    if (colon < 0) return new Uint8Array(copyBytes(view));
    const type = token.slice(colon + 1);
    if (type === '') return copyBytes(view);
    if (type === 'DataView') return new DataView(copyBytes(view));
    if (!Object.hasOwn(typedArrays, type)) throw badMessage(`unknown binary type ${type}`);
    const Ctor = typedArrays[type as TypedArrayName];
    if (view.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) throw badMessage(`${type} length is not a whole number of elements`);
    return new Ctor(copyBytes(view));
  }

  private registerTransformers(): void {
    const refTransformer = (kind: RefKind, isApplicable: (v: unknown) => boolean, name: string) => {
      this.sj.registerCustom<object, number>(
        {
          isApplicable: (v): v is object => isApplicable(v),
          serialize: (v) => this.refToken(kind, v, this.encoding?.ctx),
          deserialize: (token) => this.resolveRef(kind, token),
        },
        name,
      );
    };
    refTransformer('sender', (v) => v instanceof AbstractSender, refNames.sender);
    refTransformer('receiver', (v) => v instanceof AbstractReceiver, refNames.receiver);
    refTransformer('readable', (v) => typeof ReadableStream !== 'undefined' && v instanceof ReadableStream, refNames.readable);
    refTransformer('writable', (v) => typeof WritableStream !== 'undefined' && v instanceof WritableStream, refNames.writable);

    this.sj.registerCustom<ArrayBuffer | ArrayBufferView, string>(
      {
        isApplicable: (v): v is ArrayBuffer | ArrayBufferView => v instanceof ArrayBuffer || ArrayBuffer.isView(v),
        serialize: (v) => this.binaryToken(v, (this.encoding as { attachments: Uint8Array[] }).attachments),
        deserialize: (token) => this.reviveBinary(token),
      },
      refNames.binary,
    );

    // superjson's Date rule skips invalid dates (they would arrive as null).
    this.sj.registerCustom<Date, null>(
      {
        isApplicable: (v): v is Date => v instanceof Date && Number.isNaN(v.getTime()),
        serialize: () => null,
        deserialize: () => new Date(Number.NaN),
      },
      'D',
    );

    // Errors: name, message, string code and a depth-limited cause; never the stack.
    this.sj.registerCustom<Error, { [key: string]: string }>(
      {
        isApplicable: (v): v is Error => v instanceof Error,
        serialize: (e) => {
          const depth = this.errorDepth.get(e) ?? 0;
          const out: WireError = { name: String(e.name).slice(0, 256), message: String(e.message).slice(0, MAX_REASON_CHARS) };
          const code = (e as { code?: unknown }).code;
          if (typeof code === 'string') out.code = code.slice(0, 256);
          if ('cause' in e && e.cause !== undefined && depth < MAX_ERROR_CAUSE_DEPTH) {
            if (e.cause instanceof Error && !this.errorDepth.has(e.cause)) this.errorDepth.set(e.cause, depth + 1);
            out.cause = e.cause;
          }
          // superjson walks `cause` itself, so a nested Error cause gets this transformer too.
          return out as unknown as { [key: string]: string };
        },
        deserialize: (w) => {
          if (!isWireError(w)) throw badMessage('malformed error');
          // Errors are rebuilt after superjson is done: its reference paths cannot be set through an Error.
          (this.decoding as { hasErrors: boolean }).hasErrors = true;
          return Object.assign(Object.create(null) as object, w, { [kErrorPlaceholder]: true }) as unknown as Error;
        },
      },
      'E',
    );
  }
}

const kErrorPlaceholder: unique symbol = Symbol('libchan.errorPlaceholder');

function isPlaceholder(v: unknown): v is WireError {
  return typeof v === 'object' && v !== null && (v as { [kErrorPlaceholder]?: boolean })[kErrorPlaceholder] === true;
}

/** Replaces error placeholders with Errors everywhere in the graph, keeping shared and cyclic identity. */
function rebuildErrors(root: unknown): unknown {
  const built = new Map<object, Error>();
  const visited = new Set<object>();
  const visit = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (isPlaceholder(v)) {
      const existing = built.get(v);
      if (existing) return existing;
      const error = rebuildError(v);
      built.set(v, error);
      if ('cause' in v) Object.defineProperty(error, 'cause', { value: visit(v.cause), configurable: true, writable: true });
      return error;
    }
    if (visited.has(v)) return v;
    visited.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = visit(v[i]);
    } else if (v instanceof Map) {
      const entries = [...v].map(([k, item]) => [visit(k), visit(item)] as const);
      v.clear();
      for (const [k, item] of entries) v.set(k, item);
    } else if (v instanceof Set) {
      const items = [...v].map(visit);
      v.clear();
      for (const item of items) v.add(item);
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) {
        for (const key of Object.keys(v)) (v as Record<string, unknown>)[key] = visit((v as Record<string, unknown>)[key]);
      }
    }
    return v;
  };
  return visit(root);
}

/** An Error from its wire form (its cause is attached by the caller). */
function rebuildError(w: WireError): Error {
  let error: Error;
  const known = Object.hasOwn(knownErrorClasses, w.name) ? knownErrorClasses[w.name as keyof typeof knownErrorClasses] : undefined;
  if (known) {
    error = new known(w.message, w.code === undefined ? {} : { code: w.code });
  } else if (typeof DOMException !== 'undefined' && (w.name === 'AbortError' || w.name === 'TimeoutError')) {
    error = new DOMException(w.message, w.name);
  } else {
    const Ctor = Object.hasOwn(standardErrors, w.name) ? (standardErrors[w.name] as ErrorConstructor) : Error;
    error = new Ctor(w.message);
    if (error.name !== w.name) Object.defineProperty(error, 'name', { value: w.name, configurable: true, writable: true });
    if (w.code !== undefined) Object.defineProperty(error, 'code', { value: w.code, configurable: true, writable: true, enumerable: true });
  }
  // The stack is local to the sender; a remote error carries only its first line.
  Object.defineProperty(error, 'stack', { value: `${w.name}: ${w.message}`, configurable: true, writable: true });
  return error;
}
