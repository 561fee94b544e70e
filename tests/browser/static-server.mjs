// A tiny static file server on 127.0.0.1 (port 0) for browser tests: serves the built package
// under /pkg/ with the right MIME types (`application/wasm` lets the browser compile while
// downloading) and fixed pages from memory.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * Starts the server. `mounts` maps a URL prefix (`/pkg/`) to a directory; `pages` maps an exact
 * path to an HTML string; `headers` are added to every 200; `failNext` is a set of paths whose
 * next request gets a 503 (each path once). Resolves to `{ url, close, requests }`, `requests`
 * being every requested path in order.
 */
export function startStaticServer({ mounts = {}, pages = {}, headers = {}, failNext = new Set() }) {
  const requests = [];
  const server = http.createServer((request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    requests.push(urlPath);
    if (failNext.delete(urlPath)) {
      response.writeHead(503, { 'content-type': 'text/plain' });
      response.end('unavailable');
      return;
    }
    if (pages[urlPath] !== undefined) {
      response.writeHead(200, { ...headers, 'content-type': MIME['.html'] });
      response.end(pages[urlPath]);
      return;
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!urlPath.startsWith(prefix)) continue;
      const file = path.resolve(dir, urlPath.slice(prefix.length));
      if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) break;
      response.writeHead(200, { ...headers, 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream' });
      fs.createReadStream(file).pipe(response);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
      });
    });
  });
}
