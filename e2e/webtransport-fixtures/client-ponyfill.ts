// The ponyfill page: the page's inline script removed the native WebTransport before this
// module runs (a browser without WebTransport), so connectWebTransport needs
// `{ WebTransport: WebTransportPonyfill }` (@fails-components: WebTransport over WebSocket).
import { WebTransportPonyfill } from '@fails-components/webtransport';
import { install } from './client.js';

install(WebTransportPonyfill as never);
