// The codec alone: encode + decode of one ~100-byte message per operation, for the plain
// JSON fast path and for the superjson path (a Date inside), against JSON.parse(JSON.stringify(x)).
import { Codec } from '../../packages/core/dist/codec/index.js';

export const name = 'codec';

const plain = { id: 12345, name: 'hello world', tags: ['a', 'b', 'c'], nested: { x: 1.5, y: true, z: null }, t: 'abcdefghij' };
const withDate = { ...plain, at: new Date(Date.UTC(2026, 10, 25, 12, 0, 0)) };

let sink = 0;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function run(report) {
  const codec = new Codec({ maxNestingDepth: 64 });
  const common = { group: 'encode + decode', unit: 'msgs/s', minRoundMs: 300 };

  // Sanity: both cases round-trip before they are timed.
  for (const value of [plain, withDate]) {
    const { bytes, offset } = codec.encode(value);
    const back = codec.decode(bytes.subarray(offset));
    if (JSON.stringify(back) !== JSON.stringify(value)) throw new Error(`codec did not round-trip ${JSON.stringify(value)}`);
  }
  if (!(codec.decode(codec.encode(withDate).bytes).at instanceof Date)) throw new Error('Date did not survive the codec');

  await report.measure('JSON.parse(JSON.stringify(x))', {
    ...common,
    baseline: true,
    fn: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += JSON.parse(JSON.stringify(plain)).id;
      sink += s;
    },
  });

  await report.measure('JSON + UTF-8 bytes (TextEncoder/TextDecoder)', {
    ...common,
    fn: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += JSON.parse(decoder.decode(encoder.encode(JSON.stringify(plain)))).id;
      sink += s;
    },
  });

  await report.measure('codec: plain object (JSON fast path)', {
    ...common,
    fn: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const { bytes, offset } = codec.encode(plain);
        s += codec.decode(bytes.subarray(offset)).id;
      }
      sink += s;
    },
  });

  await report.measure('codec: with a Date (superjson path)', {
    ...common,
    fn: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const { bytes, offset } = codec.encode(withDate);
        s += codec.decode(bytes.subarray(offset)).id;
      }
      sink += s;
    },
  });

  const plainBytes = codec.encode(plain).byteLength;
  const dateBytes = codec.encode(withDate).byteLength;
  report.note(
    `Message sizes: JSON text ${encoder.encode(JSON.stringify(plain)).byteLength} B; codec payload ${plainBytes} B plain, ${dateBytes} B with the Date. ` +
      'One operation = encode + decode of one message.',
  );
}
