// @ts-self-types="./cert.d.ts"

/**
 * Self-signed certificates for WebTransport endpoints, made with WebCrypto
 * only (Node 20+, Deno, Bun, browsers): an ECDSA P-256 key and an X.509 v3
 * certificate valid for less than 14 days, the kind browsers accept through
 * `serverCertificateHashes` without any certificate authority. A small DER
 * writer builds the certificate; nothing is downloaded or shelled out.
 */

/** What `createCertificate` returns: PEM texts plus the SHA-256 of the DER certificate. */
export interface GeneratedCertificate {
  /** The certificate, PEM ("-----BEGIN CERTIFICATE-----"). */
  cert: string;
  /** The private key, PKCS #8 PEM ("-----BEGIN PRIVATE KEY-----"). */
  key: string;
  /** The certificate itself (DER). */
  der: Uint8Array;
  /** For `serverCertificateHashes`: `{ algorithm: 'sha-256', value }`. */
  hash: { algorithm: 'sha-256'; value: Uint8Array };
  notBefore: Date;
  notAfter: Date;
}

export interface CreateCertificateOptions {
  /** Days the certificate is valid from now (default 10; browsers refuse hashes of certificates valid 14 days or more). */
  days?: number;
  /** DNS names in subjectAltName (default ['localhost']). The first one is the common name too. */
  dnsNames?: readonly string[];
  /** IP addresses in subjectAltName (default ['127.0.0.1', '::1']). */
  ipAddresses?: readonly string[];
}

/** Longest validity `serverCertificateHashes` accepts is 14 days; stay clearly below. */
const MAX_DAYS = 13;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Starts a little in the past, so a peer whose clock is slightly behind still accepts it. */
const BACKDATE_MS = 60 * 60 * 1000;

// ---- a minimal DER writer ----

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function length(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>>= 8;
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = concat(content);
  return concat([Uint8Array.of(tag), length(body.byteLength), body]);
}

const seq = (...items: Uint8Array[]): Uint8Array<ArrayBuffer> => tlv(0x30, ...items);
const set = (...items: Uint8Array[]): Uint8Array => tlv(0x31, ...items);
/** Context-specific, constructed: [n] EXPLICIT. */
const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);

/** A non-negative INTEGER from big-endian magnitude bytes. */
function integer(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.byteLength - 1 && magnitude[i] === 0) i++;
  let bytes = magnitude.subarray(i);
  if (((bytes[0] ?? 0) & 0x80) !== 0) bytes = concat([Uint8Array.of(0), bytes]);
  return tlv(0x02, bytes);
}

function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    let v = Math.floor(part / 128);
    while (v > 0) {
      chunk.unshift(0x80 | (v & 0x7f));
      v = Math.floor(v / 128);
    }
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

const utf8 = (text: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(text));
const bitString = (bytes: Uint8Array): Uint8Array => tlv(0x03, Uint8Array.of(0), bytes);
const octetString = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes);
const boolean = (value: boolean): Uint8Array => tlv(0x01, Uint8Array.of(value ? 0xff : 0));

/** UTCTime (years 1950–2049) as X.509 requires for those years, else GeneralizedTime. */
function time(date: Date): Uint8Array {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const y = date.getUTCFullYear();
  const rest = `${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, new TextEncoder().encode(`${p(y % 100)}${rest}`));
  return tlv(0x18, new TextEncoder().encode(`${p(y, 4)}${rest}`));
}

function ipBytes(address: string): Uint8Array {
  if (address.includes(':')) {
    const [head = '', tail = ''] = address.split('::');
    const h = head ? head.split(':') : [];
    const t = address.includes('::') ? (tail ? tail.split(':') : []) : [];
    const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    if (groups.length !== 8) throw new TypeError(`not an IPv6 address: ${address}`);
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      const v = parseInt(g, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
    return out;
  }
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !(n >= 0 && n <= 255))) throw new TypeError(`not an IPv4 address: ${address}`);
  return Uint8Array.from(parts);
}

/** WebCrypto's ECDSA signature is r‖s (IEEE P1363); X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function derSignature(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.byteLength / 2;
  return seq(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.byteLength; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function pem(label: string, der: Uint8Array): string {
  const lines = base64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/**
 * Makes a fresh ECDSA P-256 key and a self-signed certificate for it
 * (CN and subjectAltName: localhost, 127.0.0.1, ::1 by default), valid from
 * an hour ago for `days` days (default 10, at most 13).
 */
export async function createCertificate(options: CreateCertificateOptions = {}): Promise<GeneratedCertificate> {
  const days = options.days ?? 10;
  if (!(days > 0 && days <= MAX_DAYS)) throw new RangeError(`days must be in (0, ${MAX_DAYS}] (serverCertificateHashes needs < 14 days)`);
  const dnsNames = options.dnsNames ?? ['localhost'];
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1', '::1'];
  const subtle = globalThis.crypto.subtle;
  const keys = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await subtle.exportKey('spki', keys.publicKey));
  const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', keys.privateKey));

  const now = Date.now();
  const notBefore = new Date(Math.floor((now - BACKDATE_MS) / 1000) * 1000);
  // Whole validity (notAfter − notBefore) stays below `days` + backdate ≤ 13 days + 1 hour < 14 days.
  const notAfter = new Date(notBefore.getTime() + days * DAY_MS);

  const serial = globalThis.crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] as number) & 0x7f; // positive
  const name = seq(set(seq(oid('2.5.4.3'), utf8(dnsNames[0] ?? ipAddresses[0] ?? 'libchan'))));
  const algorithm = seq(oid(ECDSA_WITH_SHA256));
  const altNames = seq(
    ...dnsNames.map((n) => tlv(0x82, new TextEncoder().encode(n))),
    ...ipAddresses.map((a) => tlv(0x87, ipBytes(a))),
  );
  const extensions = seq(
    // basicConstraints: not a CA (critical)
    seq(oid('2.5.29.19'), boolean(true), octetString(seq())),
    // keyUsage: digitalSignature (critical)
    seq(oid('2.5.29.15'), boolean(true), octetString(tlv(0x03, Uint8Array.of(7, 0x80)))),
    // extKeyUsage: serverAuth
    seq(oid('2.5.29.37'), octetString(seq(oid('1.3.6.1.5.5.7.3.1')))),
    // subjectAltName
    seq(oid('2.5.29.17'), octetString(altNames)),
  );
  const tbs = seq(
    explicit(0, integer(Uint8Array.of(2))), // v3
    integer(serial),
    algorithm,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    spki,
    explicit(3, extensions),
  );
  const signature = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, tbs));
  const der = seq(tbs, algorithm, bitString(derSignature(signature)));
  const hash = new Uint8Array(await subtle.digest('SHA-256', der));
  return {
    cert: pem('CERTIFICATE', der),
    key: pem('PRIVATE KEY', pkcs8),
    der,
    hash: { algorithm: 'sha-256', value: hash },
    notBefore,
    notAfter,
  };
}

/** The SHA-256 of a PEM certificate's DER bytes (what `serverCertificateHashes` wants). */
export async function certificateHash(certPem: string): Promise<{ algorithm: 'sha-256'; value: Uint8Array }> {
  const body = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const binary = atob(body);
  const der = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) der[i] = binary.charCodeAt(i);
  return { algorithm: 'sha-256', value: new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', der)) };
}
