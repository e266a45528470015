// bull-board's page without external fonts, so that the jobs dashboard works offline (on a closed
// operations network): its template is copied once with the Google Fonts link removed; the page
// then uses the system's fonts. The static assets stay bull-board's own.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const externalFontLink = /<link[^>]+href="https:\/\/fonts\.(googleapis|gstatic)\.com[^"]*"[^>]*>\s*/g;

/** A views directory holding bull-board's index.ejs without links to external fonts. */
export function offlineBullBoardViews(): string {
  const require = createRequire(import.meta.url);
  const uiDir = path.dirname(require.resolve('@bull-board/ui/package.json'));
  const version = String((JSON.parse(readFileSync(path.join(uiDir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'x');
  const template = readFileSync(path.join(uiDir, 'dist', 'index.ejs'), 'utf8').replace(externalFontLink, '');
  const dir = path.join(os.tmpdir(), `citizen-card-bull-board-${version}-${process.getuid?.() ?? 0}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.ejs'), template);
  return dir;
}
