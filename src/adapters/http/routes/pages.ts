// The kiosk (/kiosk) and operations console (/console) pages: static HTML, CSS and ES modules from
// ../static, no build step. A strict Content-Security-Policy: scripts and styles from this origin only;
// the console's chart library (uPlot) is served from its installed package, never from a CDN.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

export const staticDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../static');
export const assetsPrefix = '/ui/';
/** uPlot's distributed files (node_modules/uplot/dist), the only ones served from there. */
export const vendorDir = path.dirname(createRequire(import.meta.url).resolve('uplot'));
export const vendorFiles: Record<string, string> = { 'uPlot.esm.js': 'text/javascript; charset=utf-8', 'uPlot.min.css': 'text/css; charset=utf-8' };

const pageCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function page(reply: FastifyReply, file: string): FastifyReply {
  return reply.header('content-security-policy', pageCsp).header('cache-control', 'no-store').type('text/html; charset=utf-8').sendFile(file);
}

export const pageRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, { root: staticDir, prefix: assetsPrefix, index: false, cacheControl: false });
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith(assetsPrefix)) {
      reply.header('content-security-policy', pageCsp);
      reply.header('cache-control', 'no-cache');
    }
  });
  for (const [file, type] of Object.entries(vendorFiles)) {
    app.get(`${assetsPrefix}vendor/${file}`, { schema: { hide: true } }, async (_request, reply) => reply.type(type).sendFile(file, vendorDir));
  }
  app.get('/kiosk', { schema: { hide: true } }, async (_request, reply) => page(reply, 'kiosk.html'));
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => page(reply, 'console.html'));
};
