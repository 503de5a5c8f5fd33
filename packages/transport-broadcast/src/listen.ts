// @ts-self-types="./listen.d.ts"

/**
 * `listenBroadcast`: answers connectors on a BroadcastChannel name. Each
 * confirmed connector gets its own session; frames are addressed by
 * endpoint id and session id, so many sessions share one name.
 */
import { adoptSession, listenerDefaults, Session, sessionDefaults, validateSessionOptions } from '@libchan/core';
import { BroadcastLink } from './link.js';
import { goodbyeOnPagehide, sessionOptions, type BroadcastOptions } from './endpoint.js';
import { defaultBroadcastChannel, parseEnvelope, randomId, type Envelope } from './envelope.js';

export interface ListenBroadcastOptions extends BroadcastOptions {
  /** This listener's id (default: random). Connectors can target it. */
  id?: string;
  /** Sees the connector's handshake `hello`; false refuses the session (`connectBroadcast` rejects). */
  onHello?: (hello: unknown) => boolean | Promise<boolean>;
  /** How long `close()` lets open channels finish before aborting. Default `listenerDefaults.closeTimeoutMs` (5 s). */
  closeTimeoutMs?: number;
}

export interface BroadcastListener extends AsyncDisposable {
  readonly id: string;
  readonly sessions: ReadonlySet<Session>;
  close(): Promise<void>;
}

export function listenBroadcast(name: string, onSession: (session: Session) => void, options: ListenBroadcastOptions = {}): BroadcastListener {
  const { id = randomId(), onHello, closeTimeoutMs = listenerDefaults.closeTimeoutMs, ...rest } = options;
  const Ctor = rest.BroadcastChannel ?? defaultBroadcastChannel();
  const opts = sessionOptions(rest);
  validateSessionOptions(opts); // bad options throw here, not once per connector
  const channel = new Ctor(name);
  const offerTimeoutMs = opts.handshakeTimeoutMs ?? sessionDefaults.handshakeTimeoutMs;
  const links = new Map<string, BroadcastLink>();
  const offers = new Map<string, { peer: string; timer: ReturnType<typeof setTimeout> }>();
  const sessions = new Set<Session>();
  let closing = false;

  const post = (envelope: Envelope): void => {
    try {
      channel.postMessage(envelope);
    } catch {
      // a closed channel: nothing to tell
    }
  };

  const accept = (session: string, peer: string): void => {
    const link = new BroadcastLink(channel, id, peer, session, () => links.delete(session));
    links.set(session, link);
    adoptSession(new Session(link, opts, onHello ? { verifyHello: onHello } : undefined), sessions, onSession);
  };

  const onMessage = (event: MessageEvent): void => {
    const e = parseEnvelope(event.data);
    if (!e || e.from === id) return;
    switch (e.t) {
      case 'probe':
        if (!closing) post({ v: 1, t: 'here', from: id, to: e.from });
        return;
      case 'connect':
        if (closing || (e.target !== undefined && e.target !== id) || links.has(e.session) || offers.has(e.session)) return;
        offers.set(e.session, { peer: e.from, timer: setTimeout(() => offers.delete(e.session), offerTimeoutMs) });
        post({ v: 1, t: 'offer', from: id, to: e.from, session: e.session });
        return;
      case 'confirm':
      case 'decline': {
        if (e.to !== id) return;
        const offer = offers.get(e.session);
        if (!offer || offer.peer !== e.from) return;
        clearTimeout(offer.timer);
        offers.delete(e.session);
        if (e.t === 'confirm' && !closing) accept(e.session, e.from);
        return;
      }
      case 'frames':
      case 'bye':
        if (e.to === id) links.get(e.session)?.receive(e);
        return;
      default:
        return;
    }
  };
  channel.addEventListener('message', onMessage);
  const stopGoodbye = goodbyeOnPagehide(() => sessions);

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      closing = true;
      for (const offer of offers.values()) clearTimeout(offer.timer);
      offers.clear();
      await Promise.allSettled([...sessions].map((s) => s.close({ signal: AbortSignal.timeout(closeTimeoutMs) })));
      stopGoodbye();
      channel.removeEventListener('message', onMessage);
      channel.close();
    })());

  return { id, sessions, close, [Symbol.asyncDispose]: close };
}
