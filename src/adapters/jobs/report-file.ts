// Report files of the nightly jobs, written atomically: lines go to a temporary file beside the
// target and are renamed over it only when complete, so a run killed halfway never leaves a
// partial report under the real name, and a rerun replaces the file whole.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import type { ReportFile, ReportSink, ReportWriter } from '../../app/jobs/ports.js';

export const reportNamePattern = /^[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.(csv|json)$/;

class FileWriter implements ReportWriter {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private lines = 0;
  private done = false;

  constructor(
    private readonly stream: WriteStream,
    private readonly tmp: string,
    private readonly target: string,
  ) {}

  async write(text: string): Promise<void> {
    const chunk = Buffer.from(text, 'utf8');
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async line(text: string): Promise<void> {
    this.lines++;
    await this.write(`${text}\n`);
  }

  async commit(): Promise<ReportFile> {
    this.done = true;
    this.stream.end();
    await once(this.stream, 'close');
    await rename(this.tmp, this.target);
    return { path: this.target, fileName: path.basename(this.target), bytes: this.bytes, lines: this.lines, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (!this.stream.destroyed) {
      this.stream.end();
      await once(this.stream, 'close').catch(() => undefined);
    }
    await rm(this.tmp, { force: true });
  }
}

export class ReportDirectory implements ReportSink {
  constructor(readonly dir: string) {}

  async open(fileName: string): Promise<ReportWriter> {
    if (!reportNamePattern.test(fileName)) throw new Error(`report file name ${fileName} is not <job>-YYYY-MM-DD.csv|json`);
    await mkdir(this.dir, { recursive: true });
    const target = path.resolve(this.dir, fileName);
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    const stream = createWriteStream(tmp, { flags: 'wx' });
    await once(stream, 'open');
    // A write error (disk full) surfaces from write() or commit(); never as an uncaught event.
    stream.on('error', () => undefined);
    return new FileWriter(stream, tmp, target);
  }
}
