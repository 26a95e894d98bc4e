// The ELK layout engine, in a Web Worker of its own (a separate file, as the CSP allows: no blob: URL).
// elk-worker installs ELK's message dispatcher on `self`; the page talks to it through elk-api
// (see layout.ts), so a 1,000-node layout never blocks the page.
import 'elkjs/lib/elk-worker.min.js';
