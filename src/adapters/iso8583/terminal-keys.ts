// POS terminals as the ISO gateway sees them: identity and keys (cached, decrypted once), MAC
// checking, and session keys issued at sign-on / key change. Issued keys become active when the
// terminal first uses them; until then the keys it holds keep working (docs/iso8583.md, "Keys").
import type { Registry, TerminalRow } from '../postgres/registry.js';
import { terminalContextOf, type TerminalContext } from '../../app/terminal.js';
import type { TerminalKeys } from '../../app/admin.js';
import type { Secrets } from '../../platform/secrets.js';
import { KeyedMutex } from '../../platform/mutex.js';
import { encryptKey, generateKey, keyCheckValue } from './keys.js';
import { retailMac, verifyMac } from './mac.js';

/** How long a terminal row is trusted without a reload (a status change shows within this). */
export const terminalCacheMs = 30_000;
export const terminalCacheMax = 100_000;
/** A MAC failure reloads the row only when the cached one is older than this (bad MACs cost no query each). */
export const reloadAfterFailureMs = 1_000;

/** What keys_enc holds: the registered trio, plus keys issued at sign-on that the terminal has not used yet. */
export interface StoredKeys extends TerminalKeys {
  next?: { mak: string; tpk: string; issuedAt: string };
}

export interface IsoTerminal {
  row: TerminalRow;
  context: TerminalContext;
  mak: Buffer;
  nextMak: Buffer | null;
  /** The terminal master key: it authenticates key management (sign-on, key change) and never changes here. */
  tmk: Buffer;
  loadedAtMs: number;
}

/** Session keys under the terminal master key, for field 60 of the 0810. */
export interface IssuedKeys {
  makUnderTmk: string;
  makKcv: string;
  tpkUnderTmk: string;
  tpkKcv: string;
}

export type MacCheck = { ok: true; terminal: IsoTerminal } | { ok: false };

export interface TerminalKeyDeps {
  registry: Registry;
  secrets: Secrets;
  decryptKeys: (keysEnc: Buffer) => TerminalKeys;
  now: () => Date;
}

export class IsoTerminals {
  private readonly cache = new Map<string, IsoTerminal>();
  private readonly perTerminal = new KeyedMutex();

  constructor(private readonly deps: TerminalKeyDeps) {}

  /** The terminal, from the cache unless stale or `fresh`; null when not registered. */
  async get(terminalId: string, fresh = false): Promise<IsoTerminal | null> {
    const hit = this.cache.get(terminalId);
    if (!fresh && hit && Date.now() - hit.loadedAtMs < terminalCacheMs) return hit;
    const row = await this.deps.registry.terminal(terminalId);
    if (!row) {
      this.cache.delete(terminalId);
      return null;
    }
    return this.remember(row, this.keysOf(row));
  }

  /** Drops the cached row (its status changed, maybe in another process): the next message reloads it. */
  forget(terminalId: string): void {
    this.cache.delete(terminalId);
  }

  /** The cached terminal without I/O (for answers that must not wait, e.g. overload refusals). */
  peek(terminalId: string): IsoTerminal | undefined {
    return this.cache.get(terminalId);
  }

  /**
   * Checks a request's MAC under the active MAK, then under issued-but-unused keys (which then
   * become active), then once more after reloading the row (another process may have changed it).
   */
  async verify(terminal: IsoTerminal, macInput: Buffer, mac: Buffer): Promise<MacCheck> {
    const check = async (t: IsoTerminal): Promise<MacCheck | null> => {
      if (verifyMac(t.mak, macInput, mac)) return { ok: true, terminal: t };
      if (t.nextMak && verifyMac(t.nextMak, macInput, mac)) {
        const promoted = await this.promote(t.row.terminalId, t.nextMak);
        return promoted ? { ok: true, terminal: promoted } : null;
      }
      return null;
    };
    const first = await check(terminal);
    if (first) return first;
    if (Date.now() - terminal.loadedAtMs < reloadAfterFailureMs) return { ok: false };
    const reloaded = await this.get(terminal.row.terminalId, true);
    if (!reloaded) return { ok: false };
    return (await check(reloaded)) ?? { ok: false };
  }

  /** The MAC of an answer, under the terminal's active MAK. */
  mac(terminal: IsoTerminal, macInput: Buffer): Buffer {
    return retailMac(terminal.mak, macInput);
  }

  /**
   * Key management (sign-on, key change) is MACed under the TMK: the only key a terminal holds for
   * sure (its session MAK may be stale), and one that an outsider who can reach the port does not.
   */
  verifyUnderTmk(terminal: IsoTerminal, macInput: Buffer, mac: Buffer): boolean {
    return verifyMac(terminal.tmk, macInput, mac);
  }

  /** The MAC of a key-management answer, under the TMK (the key its request was verified with). */
  macUnderTmk(terminal: IsoTerminal, macInput: Buffer): Buffer {
    return retailMac(terminal.tmk, macInput);
  }

  /** Sign-on (001) and key change (101): fresh MAK and PIN key, stored as `next`, returned under the TMK. */
  async issue(terminalId: string): Promise<IssuedKeys | null> {
    return this.perTerminal.run(terminalId, async () => {
      const row = await this.deps.registry.terminal(terminalId);
      if (!row) return null;
      const keys = this.keysOf(row);
      const tmk = Buffer.from(keys.tmk, 'hex');
      const mak = generateKey();
      const tpk = generateKey();
      const next: StoredKeys = { mak: keys.mak, tpk: keys.tpk, tmk: keys.tmk, next: { mak: mak.toString('hex'), tpk: tpk.toString('hex'), issuedAt: this.deps.now().toISOString() } };
      await this.store(row, next);
      return {
        makUnderTmk: encryptKey(mak, tmk).toString('hex').toUpperCase(),
        makKcv: keyCheckValue(mak),
        tpkUnderTmk: encryptKey(tpk, tmk).toString('hex').toUpperCase(),
        tpkKcv: keyCheckValue(tpk),
      };
    });
  }

  /** Makes the issued keys active, once the terminal has shown it holds them. */
  private async promote(terminalId: string, usedMak: Buffer): Promise<IsoTerminal | null> {
    return this.perTerminal.run(terminalId, async () => {
      const row = await this.deps.registry.terminal(terminalId);
      if (!row) return null;
      const keys = this.keysOf(row);
      if (Buffer.from(keys.mak, 'hex').equals(usedMak)) return this.remember(row, keys); // promoted meanwhile
      if (!keys.next || !Buffer.from(keys.next.mak, 'hex').equals(usedMak)) return null; // superseded
      return this.store(row, { mak: keys.next.mak, tpk: keys.next.tpk, tmk: keys.tmk });
    });
  }

  private async store(row: TerminalRow, keys: StoredKeys): Promise<IsoTerminal> {
    const keysEnc = this.deps.secrets.encrypt(JSON.stringify(keys));
    await this.deps.registry.updateTerminalKeys(row.terminalId, keysEnc);
    return this.remember({ ...row, keysEnc }, keys);
  }

  private keysOf(row: TerminalRow): StoredKeys {
    return this.deps.decryptKeys(row.keysEnc) as StoredKeys;
  }

  private remember(row: TerminalRow, keys: StoredKeys): IsoTerminal {
    const terminal: IsoTerminal = {
      row,
      context: terminalContextOf(row),
      mak: Buffer.from(keys.mak, 'hex'),
      nextMak: keys.next ? Buffer.from(keys.next.mak, 'hex') : null,
      tmk: Buffer.from(keys.tmk, 'hex'),
      loadedAtMs: Date.now(),
    };
    if (this.cache.size >= terminalCacheMax) this.cache.clear();
    this.cache.set(row.terminalId, terminal);
    return terminal;
  }
}
