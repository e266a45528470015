// 0800 network management (F70): sign-on and key change (MACed under the TMK, checked by the
// pipeline; at most a few per terminal per minute) issue new session keys (MAK, PIN key) under the
// terminal master key in field 60; sign-off and echo just answer 00.
import type { IsoMessage } from './codec.js';
import { NetworkCode } from './spec.js';
import { formatSessionKeys } from './fields.js';
import type { IsoTerminal, IsoTerminals } from './terminal-keys.js';
import { answer, text, type Answer, type NetworkHandler } from './handlers.js';
import { Code } from '../../domain/codes.js';
import type { Logger } from '../../platform/logger.js';

/** Counts a terminal's key changes across processes; false when over the limit. */
export interface RekeyCounter {
  take(terminalId: string): Promise<boolean>;
}

export class NetworkManagement implements NetworkHandler {
  constructor(
    private readonly terminals: IsoTerminals,
    private readonly log: Logger,
    private readonly rekeys: RekeyCounter,
  ) {}

  async run(msg: IsoMessage, terminal: IsoTerminal): Promise<Answer> {
    const code = text(msg, 70);
    const terminalId = terminal.row.terminalId;
    switch (code) {
      case NetworkCode.signOn:
      case NetworkCode.keyChange: {
        if (!(await this.rekeys.take(terminalId))) {
          this.log.warn({ terminalId, networkCode: code }, 'iso: key change refused: over the per-terminal rate limit');
          return answer(Code.exceedsFrequency);
        }
        const issued = await this.terminals.issue(terminalId);
        if (!issued) return answer(Code.notPermittedTerminal);
        // Check values only: they identify the keys without revealing them.
        this.log.info({ terminalId, networkCode: code, makKcv: issued.makKcv, tpkKcv: issued.tpkKcv }, 'iso: session keys issued');
        return answer(Code.approved, { 60: formatSessionKeys(issued) });
      }
      case NetworkCode.signOff:
        this.log.info({ terminalId }, 'iso: sign-off');
        return answer(Code.approved);
      case NetworkCode.echo:
        return answer(Code.approved);
      case undefined:
        return answer(Code.formatError);
      default:
        return answer(Code.invalidTransaction);
    }
  }
}
