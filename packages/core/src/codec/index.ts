// @ts-self-types="./index.d.ts"

export { Codec, type CodecOptions, type DecodeContext, type EncodeContext, type EncodedMessage, type RefKind } from './codec.js';
