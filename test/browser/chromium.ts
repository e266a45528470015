// Finds (or, as root with apt, installs) the Debian Chromium that the browser tests drive through
// playwright-core. Skipping is only allowed where it cannot be installed; once present, a launch
// failure fails the tests.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumInstallTimeoutMs = 600_000;

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export type ChromiumState = { ok: true; path: string; installed: boolean } | { ok: false; reason: string };

function canInstall(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  try {
    execFileSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasChineseFont(): boolean {
  try {
    return execFileSync('fc-list', [':lang=zh'], { encoding: 'utf8' }).trim().length > 0;
  } catch {
    return false;
  }
}

/** A CJK font so that the Chinese kiosk screenshots show text, not boxes (best effort). */
function ensureChineseFont(): void {
  if (hasChineseFont() || !canInstall()) return;
  try {
    process.stderr.write('[browser tests] no Chinese font: installing fonts-wqy-zenhei with apt-get\n');
    execFileSync('apt-get', ['install', '-y', '-qq', 'fonts-wqy-zenhei'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: chromiumInstallTimeoutMs });
  } catch {
    process.stderr.write('[browser tests] could not install a Chinese font; screenshots will show boxes for Chinese text\n');
  }
}

/** Present → ok; missing and installable → installs it (apt-get) or throws; else a skip reason. */
export function ensureChromium(): ChromiumState {
  if (existsSync(chromiumPath)) {
    ensureChineseFont();
    return { ok: true, path: chromiumPath, installed: false };
  }
  if (process.env.CHROMIUM_PATH) throw new Error(`CHROMIUM_PATH=${chromiumPath} does not exist`);
  if (!canInstall()) {
    return { ok: false, reason: `${chromiumPath} is missing and cannot be installed here (needs root and apt-get): install chromium (apt-get install -y chromium) or set CHROMIUM_PATH` };
  }
  process.stderr.write(`[browser tests] ${chromiumPath} missing: installing chromium with apt-get (once)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: chromiumInstallTimeoutMs });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium', 'fonts-wqy-zenhei'], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: chromiumInstallTimeoutMs });
  if (!existsSync(chromiumPath)) throw new Error(`apt-get install chromium finished but ${chromiumPath} is still missing`);
  return { ok: true, path: chromiumPath, installed: true };
}
