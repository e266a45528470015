// Terminal status changes across processes: the process that blocks (or reactivates) a terminal
// publishes its id on a Redis channel; every process drops its cached terminal and closes the
// terminal's connections (HTTP key cache, ISO key cache, mTLS sockets) at once.
import type { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger.js';

export type TerminalChangeHandler = (terminalId: string) => void;

export class TerminalEvents {
  private subscriber: Redis | null = null;
  private readonly handlers: TerminalChangeHandler[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly channel: string,
    private readonly log: Logger,
  ) {}

  on(handler: TerminalChangeHandler): void {
    this.handlers.push(handler);
  }

  /** Runs the handlers here first (the caller's next request must already see it), then tells the others. */
  async changed(terminalId: string): Promise<void> {
    this.deliver(terminalId);
    await this.redis.publish(this.channel, terminalId);
  }

  async start(): Promise<void> {
    if (this.subscriber) return;
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.log.warn({ err: error.message }, 'terminal events: subscriber error'));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel && /^[A-Za-z0-9]{8}$/.test(message)) this.deliver(message);
    });
    await subscriber.subscribe(this.channel);
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    if (subscriber) subscriber.disconnect();
  }

  private deliver(terminalId: string): void {
    for (const handler of this.handlers) {
      try {
        handler(terminalId);
      } catch (error) {
        this.log.error({ err: error, terminalId }, 'terminal events: handler failed');
      }
    }
  }
}
