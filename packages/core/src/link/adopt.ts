// @ts-self-types="./adopt.d.ts"

/**
 * What every listener (WebSocket, socket, BroadcastChannel …) does with a
 * session it accepted: track it while it lives, and hand it to the user's
 * `onSession` once its handshake is done (an exception there aborts it).
 */
import type { Session } from '../session/session.js';

export function adoptSession<A extends unknown[]>(
  session: Session,
  sessions: Set<Session>,
  onSession: (session: Session, ...extra: A) => void,
  ...extra: A
): void {
  sessions.add(session);
  const forget = (): void => {
    sessions.delete(session);
  };
  session.closed.then(forget, forget);
  session.ready.then(
    () => {
      try {
        onSession(session, ...extra);
      } catch (error) {
        session.abort(error);
      }
    },
    () => {},
  );
}
