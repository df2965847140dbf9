// Serves the pages in web/: HTML as it is, each TypeScript module transpiled by esbuild on first request and cached.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { notFound } from '../errors.js';

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

/** Page paths and the HTML file each serves. */
const PAGES: Record<string, string> = {
  '/': 'index.html',
  '/order': 'customer.html',
  '/owner': 'owner.html',
  '/driver': 'driver.html',
  '/board/:locationId': 'board.html',
};

const ASSET_NAME = /^([a-z][a-z0-9-]{0,40})\.(js|css|svg)$/;
const CONTENT_TYPES = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', html: 'text/html; charset=utf-8' };

// Everything a page loads comes from this origin; nothing inline, so an injected script has nowhere to run.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface Compiled {
  mtimeMs: number;
  body: string;
  etag: string;
}

export default fp(async (app: FastifyInstance, opts: { webDir?: string }) => {
  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  const cache = new Map<string, Compiled>();

  /** Reads (and for .ts, transpiles) a file once per change on disk, so an edited page shows on reload. */
  async function load(file: string, transpile: boolean): Promise<Compiled | undefined> {
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      return undefined;
    }
    const cached = cache.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs) return cached;
    const source = await fs.readFile(file, 'utf8');
    const body = transpile
      ? (await transform(source, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: path.basename(file) })).code
      : source;
    const compiled = { mtimeMs: stat.mtimeMs, body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    cache.set(file, compiled);
    return compiled;
  }

  function send(request: FastifyRequest, reply: FastifyReply, compiled: Compiled, contentType: string) {
    reply.headers({ ...PAGE_HEADERS, 'content-type': contentType, etag: compiled.etag, 'cache-control': 'no-cache' });
    if (request.headers['if-none-match'] === compiled.etag) return reply.code(304).send();
    return reply.send(compiled.body);
  }

  for (const [url, file] of Object.entries(PAGES)) {
    app.get(url, { schema: { hide: true } }, async (request, reply) => {
      const page = await load(path.join(webDir, file), false);
      if (!page) throw notFound('Page');
      return send(request, reply, page, CONTENT_TYPES.html);
    });
  }

  app.get('/assets/:name', { schema: { hide: true } }, async (request: FastifyRequest<{ Params: { name: string } }>, reply) => {
    // Only plain names: nothing outside web/ can be asked for.
    const match = ASSET_NAME.exec(request.params.name);
    if (!match) throw notFound('Asset');
    const [, base, ext] = match as unknown as [string, string, 'js' | 'css' | 'svg'];
    const asset = ext === 'js' ? await load(path.join(webDir, `${base}.ts`), true) : await load(path.join(webDir, `${base}.${ext}`), false);
    if (!asset) throw notFound('Asset');
    return send(request, reply, asset, CONTENT_TYPES[ext]);
  });
}, { name: 'static-pages' });
