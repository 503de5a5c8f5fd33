// The native page: the browser's own WebTransport (HTTP/3). It does not load
// @fails-components (whose module probes WebTransport support at load time).
import { install } from './client.js';

install();
