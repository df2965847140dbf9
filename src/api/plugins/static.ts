// Serves the pages in web/: HTML, CSS and images as they are, and each page's script. A built tree (dist/web) holds the
// scripts bundled at build time; in the source tree each page's TypeScript is bundled with esbuild on first request,
// with what it imports from src/, and bundled again when one of its files changes.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { notFound } from '../errors.js';

// web/ beside src/ in the source tree, and dist/web beside dist/src in a build.
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

/** Page paths and the HTML file each serves. */
export const PAGES: Record<string, string> = {
  '/': 'index.html',
  '/order': 'customer.html',
  '/owner': 'owner.html',
  '/driver': 'driver.html',
  '/invitation.html': 'invitation.html',
  '/board/:locationId': 'board.html',
};

/** How a page's script is bundled, in development and by `npm run build` alike. */
export const PAGE_BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  legalComments: 'none',
} as const satisfies BuildOptions;

const ASSET_NAME = /^([a-z][a-z0-9-]{0,40})\.(js|css|svg)$/;
const CONTENT_TYPES = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  html: 'text/html; charset=utf-8',
};

// Everything a page loads comes from this origin; nothing inline, so an injected script has nowhere to run.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface Compiled {
  /** The files the body was made from, with their modification times when it was made. */
  inputs: Map<string, number>;
  body: string;
  etag: string;
}

const mtime = (file: string) =>
  fs.stat(file).then(
    (stat) => stat.mtimeMs,
    () => undefined,
  );

async function fresh(compiled: Compiled): Promise<boolean> {
  for (const [file, mtimeMs] of compiled.inputs) if ((await mtime(file)) !== mtimeMs) return false;
  return true;
}

const compiled = (body: string, inputs: Map<string, number>): Compiled => ({
  inputs,
  body,
  etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
});

/** Bundles one page's script from its TypeScript source; esbuild is loaded only here, so a build never needs it. */
async function bundlePage(entry: string): Promise<Compiled> {
  const { build } = await import('esbuild');
  const result = await build({
    ...PAGE_BUNDLE_OPTIONS,
    entryPoints: [entry],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = new Map<string, number>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = path.resolve(input);
    inputs.set(file, (await mtime(file)) ?? 0);
  }
  return compiled(result.outputFiles[0]!.text, inputs);
}

export default fp(
  async (app: FastifyInstance, opts: { webDir?: string }) => {
    const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
    const cache = new Map<string, Compiled>();

    /** Reads a file once per change on disk, so an edited page shows on reload. */
    async function load(file: string): Promise<Compiled | undefined> {
      const cached = cache.get(file);
      if (cached && (await fresh(cached))) return cached;
      const mtimeMs = await mtime(file);
      if (mtimeMs === undefined) return undefined;
      const result = compiled(await fs.readFile(file, 'utf8'), new Map([[file, mtimeMs]]));
      cache.set(file, result);
      return result;
    }

    /** A page's script: prebuilt when the build wrote it, otherwise bundled from its source. */
    async function loadScript(base: string): Promise<Compiled | undefined> {
      const prebuilt = await load(path.join(webDir, `${base}.js`));
      if (prebuilt) return prebuilt;
      const entry = path.join(webDir, `${base}.ts`);
      const cached = cache.get(entry);
      if (cached && (await fresh(cached))) return cached;
      if ((await mtime(entry)) === undefined) return undefined;
      const result = await bundlePage(entry);
      cache.set(entry, result);
      return result;
    }

    function send(request: FastifyRequest, reply: FastifyReply, compiled: Compiled, contentType: string) {
      reply.headers({ ...PAGE_HEADERS, 'content-type': contentType, etag: compiled.etag, 'cache-control': 'no-cache' });
      if (request.headers['if-none-match'] === compiled.etag) return reply.code(304).send();
      return reply.send(compiled.body);
    }

    for (const [url, file] of Object.entries(PAGES)) {
      app.get(url, { schema: { hide: true } }, async (request, reply) => {
        const page = await load(path.join(webDir, file));
        if (!page) throw notFound('Page');
        return send(request, reply, page, CONTENT_TYPES.html);
      });
    }

    app.get(
      '/assets/:name',
      { schema: { hide: true } },
      async (request: FastifyRequest<{ Params: { name: string } }>, reply) => {
        // Only plain names: nothing outside web/ can be asked for.
        const match = ASSET_NAME.exec(request.params.name);
        if (!match) throw notFound('Asset');
        const [, base, ext] = match as unknown as [string, string, 'js' | 'css' | 'svg'];
        const asset = ext === 'js' ? await loadScript(base) : await load(path.join(webDir, `${base}.${ext}`));
        if (!asset) throw notFound('Asset');
        return send(request, reply, asset, CONTENT_TYPES[ext]);
      },
    );
  },
  { name: 'static-pages' },
);
