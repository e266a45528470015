// The ISO 8583 request pipeline: decode, identify the terminal (F41), check the MAC and the
// merchant (F42), detect duplicates (terminal + STAN + F7), run the message's handler, and encode
// the answer (echo + 39, MAC'd). Expected outcomes are values; only bugs are exceptions (→ 96).
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decodeMessage, encodeMessage, encodeMessageWithMac, fieldText, IsoFormatError, macInput, macOf, type FieldValue, type IsoMessage } from './codec.js';
import { describeMessage, describeRaw } from './mask.js';
import { macFieldPrimary, macFieldSecondary, NetworkCode, requestMtis, responseMtiOf } from './spec.js';
import { currencyCny, echoedFields } from './fields.js';
import type { IsoTerminal, IsoTerminals } from './terminal-keys.js';
import { isoKeyText, type IsoKey, type IsoOp, type IsoStore } from './store.js';
import { Code, type ResponseCode } from '../../domain/codes.js';
import type { Logger } from '../../platform/logger.js';
import { isDependencyDown } from '../../platform/dependency-errors.js';
import type { IsoConnectionContext, IsoHandled, IsoPeer } from './server.js';

/** What a handler decides: the code and the fields added to the echo. */
export interface Answer {
  code: ResponseCode;
  fields?: Record<number, string>;
  /** An approved purchase's retrieval reference number, stored so that a refund can find it. */
  rrn?: string;
}

/** A request that passed decoding, terminal identification and the MAC check. */
export interface IsoRequest {
  msg: IsoMessage;
  terminal: IsoTerminal;
  /** terminal + STAN + F7 (02xx, 04xx, 05xx). */
  key: IsoKey;
  keyText: string;
}

export interface FinancialHandler {
  /** The operation a request is, or an answer without effect (unsupported, missing fields). */
  classify(req: IsoRequest): { op: IsoOp; originalKey: string | null } | Answer;
  run(req: IsoRequest, op: IsoOp, ctx: { reversedBefore: boolean }): Promise<Answer>;
}

export interface NetworkHandler {
  run(msg: IsoMessage, terminal: IsoTerminal): Promise<Answer>;
}

export interface PipelineDeps {
  store: IsoStore;
  terminals: IsoTerminals;
  log: Logger;
  financial: Record<string, FinancialHandler>;
  network: NetworkHandler;
  /** False while Redis is disconnected: financial requests are answered 91 at once instead of stalling (DESIGN §11). */
  dependenciesReady?: () => boolean;
  /** Observer of every answer: the request's MTI (and message, when it decoded), its code, and its time in seconds. */
  observe?: (answered: { mti: string; msg: IsoMessage | null; code: ResponseCode; seconds: number }) => void;
}

/** Codes that mean "not done, try again": not kept as the key's answer, so a retry is processed. */
const retryableCodes: ReadonlySet<string> = new Set([Code.issuerInoperative, Code.systemMalfunction]);

export const answer = (code: ResponseCode, fields?: Record<number, string>): Answer => (fields ? { code, fields } : { code });

export function text(msg: IsoMessage, no: number): string | undefined {
  return fieldText(msg, no);
}

/** The request fingerprint for duplicate detection: the bytes the MAC covers, so a new key does not change it. */
function requestHashOf(raw: Buffer): string {
  return createHash('sha256').update(macInput(raw)).digest('base64url').slice(0, 22);
}

function hasMac(msg: IsoMessage): boolean {
  return msg.fields.has(macFieldPrimary) || msg.fields.has(macFieldSecondary);
}

/** Sign-on and key change: they issue keys, so they must be MACed under the TMK (DESIGN §11). */
export function isKeyManagement(msg: IsoMessage): boolean {
  if (msg.mti !== '0800') return false;
  const code = fieldText(msg, 70);
  return code === NetworkCode.signOn || code === NetworkCode.keyChange;
}

/** Which of the terminal's keys MACs an answer: the session MAK, or the TMK for key management. */
type AnswerKey = 'mak' | 'tmk';

interface Processed {
  answer: Answer;
  terminal: IsoTerminal | null;
  /** The request carried a MAC that verified (the connection is then a terminal's, not a stranger's). */
  authenticated: boolean;
  answerKey: AnswerKey;
}

/** For callers without a connection (tests, tools): every line may be logged. */
const unlimitedLogging: IsoConnectionContext = { id: 0, mayLog: () => true };

/** Fields echoed beyond DESIGN §6's list, per answer: the network code, the original data, the batch. */
const extraEcho: Record<string, readonly number[]> = { '0810': [70], '0410': [90], '0430': [90], '0510': [60] };

export class IsoPipeline {
  private readonly inflight = new Map<string, { hash: string; promise: Promise<Answer> }>();

  constructor(private readonly deps: PipelineDeps) {}

  /** The running request with this key, if any (a reversal waits for its original). */
  inflightOf(keyText: string): Promise<Answer> | undefined {
    return this.inflight.get(keyText)?.promise;
  }

  /** Answers one framed message (null: close the connection), and whether its MAC verified. */
  async handle(raw: Buffer, conn: IsoConnectionContext = unlimitedLogging): Promise<IsoHandled> {
    let msg: IsoMessage;
    try {
      msg = decodeMessage(raw);
    } catch (error) {
      if (!(error instanceof IsoFormatError)) throw error;
      return { answer: this.formatError(raw, error, conn), authenticated: false };
    }
    const responseMti = responseMtiOf(msg.mti);
    if (!responseMti) {
      if (conn.mayLog()) this.deps.log.warn({ iso: describeMessage(msg) }, 'iso: not a request MTI; closing');
      return { answer: null, authenticated: false };
    }
    const started = performance.now();
    let processed: Processed;
    try {
      processed = await this.process(msg, raw, conn.peer);
    } catch (error) {
      // An outage of Redis or PostgreSQL is "try again later" (91), not a malfunction (96).
      const down = isDependencyDown(error);
      this.deps.log.error({ err: error, iso: describeMessage(msg) }, down ? 'iso: request failed: dependency down' : 'iso: request failed');
      processed = { answer: answer(down ? Code.issuerInoperative : Code.systemMalfunction), terminal: null, authenticated: false, answerKey: 'mak' };
    }
    const result = processed.answer;
    this.deps.observe?.({ mti: msg.mti, msg, code: result.code, seconds: (performance.now() - started) / 1000 });
    const level = result.code === Code.securityViolation || result.code === Code.formatError ? 'warn' : result.code === Code.systemMalfunction ? 'error' : 'debug';
    // Warnings are about the sender's input: budgeted per connection and globally, so a flood of bad frames cannot fill the disk.
    if (this.deps.log.isLevelEnabled(level) && (level !== 'warn' || conn.mayLog())) {
      this.deps.log[level]({ conn: conn.id, iso: describeMessage(msg), code: result.code, ms: Math.round((performance.now() - started) * 10) / 10 }, 'iso');
    }
    return { answer: this.encodeAnswer(msg, responseMti, result, processed.terminal, processed.answerKey), authenticated: processed.authenticated };
  }

  /** An immediate answer without processing (connection over its in-flight maximum: 91), MAC'd if the key is cached. */
  refuse(raw: Buffer, code: ResponseCode, conn: IsoConnectionContext = unlimitedLogging): Buffer | null {
    let msg: IsoMessage;
    try {
      msg = decodeMessage(raw);
    } catch (error) {
      if (error instanceof IsoFormatError) return this.formatError(raw, error, conn);
      throw error;
    }
    const responseMti = responseMtiOf(msg.mti);
    if (!responseMti) return null;
    const terminalId = text(msg, 41)?.trimEnd();
    const terminal = terminalId ? (this.deps.terminals.peek(terminalId) ?? null) : null;
    this.deps.observe?.({ mti: msg.mti, msg, code, seconds: 0 });
    return this.encodeAnswer(msg, responseMti, answer(code), terminal, isKeyManagement(msg) ? 'tmk' : 'mak');
  }

  private formatError(raw: Buffer, error: IsoFormatError, conn: IsoConnectionContext): Buffer | null {
    const responseMti = error.mti ? responseMtiOf(error.mti) : undefined;
    if (conn.mayLog()) this.deps.log.warn({ raw: describeRaw(raw), reason: error.reason, field: error.fieldNo, answered: !!responseMti }, 'iso: malformed message');
    if (!responseMti) return null;
    this.deps.observe?.({ mti: error.mti!, msg: null, code: Code.formatError, seconds: 0 });
    const fields = new Map<number, FieldValue>([[39, Code.formatError]]);
    if (error.stan) fields.set(11, error.stan);
    return encodeMessage({ mti: responseMti, fields });
  }

  private async process(msg: IsoMessage, raw: Buffer, peer?: IsoPeer): Promise<Processed> {
    const keyManagement = isKeyManagement(msg);
    const answerKey: AnswerKey = keyManagement ? 'tmk' : 'mak';
    const done = (result: Answer, terminal: IsoTerminal | null, authenticated: boolean): Processed => ({ answer: result, terminal, authenticated, answerKey });
    if (!(requestMtis as readonly string[]).includes(msg.mti)) return done(answer(Code.formatError), null, false);
    const terminalId = text(msg, 41)?.trimEnd();
    if (!terminalId) return done(answer(Code.formatError), null, false);
    // Over mTLS the certificate is the terminal: another F41 is refused before anything is looked up.
    if (peer?.certified && peer.terminalId !== terminalId) return done(answer(Code.notPermittedTerminal), null, false);
    if (peer && peer.terminalId === null) peer.terminalId = terminalId;
    let terminal = await this.deps.terminals.get(terminalId);
    if (!terminal) return done(answer(Code.notPermittedTerminal), null, false);

    const financial = msg.mti !== '0800';
    let authenticated = false;
    if (keyManagement) {
      // Anybody who reaches the port could otherwise issue the terminal new keys (and so break its next message).
      if (!hasMac(msg) || !this.deps.terminals.verifyUnderTmk(terminal, macInput(raw), macOf(raw))) return done(answer(Code.securityViolation), terminal, false);
      authenticated = true;
    } else {
      if (financial && !hasMac(msg)) return done(answer(Code.securityViolation), terminal, false);
      if (hasMac(msg)) {
        const check = await this.deps.terminals.verify(terminal, macInput(raw), macOf(raw));
        if (!check.ok) return done(answer(Code.securityViolation), terminal, false);
        terminal = check.terminal;
        authenticated = true;
      }
    }
    const ctx = terminal.context;
    // A blocked or non-POS terminal's MAC does not earn its connection a place (it is not served).
    if (terminal.row.status !== 'active' || ctx.kind !== 'pos' || !ctx.merchantId) return done(answer(Code.notPermittedTerminal), terminal, false);
    const merchant = text(msg, 42);
    if (merchant !== undefined && merchant.trimEnd() !== ctx.merchantId) return done(answer(Code.notPermittedTerminal), terminal, authenticated);
    const currency = text(msg, 49);
    if (currency !== undefined && currency !== currencyCny) return done(answer(Code.formatError), terminal, authenticated);

    if (!financial) return done(await this.deps.network.run(msg, terminal), terminal, authenticated);
    if (this.deps.dependenciesReady && !this.deps.dependenciesReady()) return done(answer(Code.issuerInoperative), terminal, authenticated);
    const handler = this.deps.financial[msg.mti];
    const stan = text(msg, 11);
    const transmitted = text(msg, 7);
    if (!handler || !stan || !transmitted) return done(answer(Code.formatError), terminal, authenticated);
    const key: IsoKey = { terminalId, stan, transmitted };
    const req: IsoRequest = { msg, terminal, key, keyText: isoKeyText(key) };
    return done(await this.once(req, requestHashOf(raw), handler), terminal, authenticated);
  }

  /** The same key and content → the first answer and one effect; the same key, other content → 94. */
  private async once(req: IsoRequest, hash: string, handler: FinancialHandler): Promise<Answer> {
    const running = this.inflight.get(req.keyText);
    if (running) return running.hash === hash ? running.promise : answer(Code.duplicateDifferent);
    const kind = handler.classify(req);
    if ('code' in kind) return kind;
    const work = this.claimAndRun(req, hash, handler, kind);
    const promise = work.then((w) => w.answer);
    const entry = { hash, promise };
    this.inflight.set(req.keyText, entry);
    // The entry stays until the answer is stored, so that a copy arriving meanwhile gets it from here.
    void work
      .then((w) => w.recorded)
      .catch(() => undefined)
      .finally(() => {
        if (this.inflight.get(req.keyText) === entry) this.inflight.delete(req.keyText);
      });
    return promise;
  }

  /** The answer, and the write of it (not awaited before answering: one round trip less). */
  private async claimAndRun(
    req: IsoRequest,
    hash: string,
    handler: FinancialHandler,
    kind: { op: IsoOp; originalKey: string | null },
  ): Promise<{ answer: Answer; recorded: Promise<void> }> {
    const done = Promise.resolve();
    const claim = await this.deps.store.claim({
      ...req.key,
      mti: req.msg.mti,
      requestHash: hash,
      op: kind.op,
      merchantId: req.terminal.context.merchantId,
      originalKey: kind.originalKey,
    });
    if (claim.kind === 'conflict') return { answer: answer(Code.duplicateDifferent), recorded: done };
    if (claim.kind === 'seen' && claim.answer) {
      const fields = Object.fromEntries(Object.entries(claim.answer.fields).map(([k, v]) => [Number(k), v]));
      return { answer: { code: claim.answer.code as ResponseCode, fields }, recorded: done };
    }
    // New, or seen without an answer (the first attempt is running elsewhere or died): every
    // handler is idempotent by the key, so running it again cannot add a second effect.
    const result = await handler.run(req, kind.op, { reversedBefore: claim.reversedBefore });
    if (retryableCodes.has(result.code)) return { answer: result, recorded: done };
    const fields: Record<string, string> = {};
    for (const [no, value] of Object.entries(result.fields ?? {})) fields[no] = value;
    // Written after answering. Lost (crash, database error), the claim stays pending and a
    // retransmission runs again, which the idempotent handlers answer the same.
    const recorded = this.deps.store.complete({ ...req.key, answer: { code: result.code, fields }, rrn: result.rrn ?? null }).catch((error: unknown) => {
      this.deps.log.warn({ err: error, terminalId: req.key.terminalId, stan: req.key.stan }, 'iso: answer not recorded');
    });
    return { answer: result, recorded };
  }

  private encodeAnswer(msg: IsoMessage, responseMti: string, result: Answer, terminal: IsoTerminal | null, answerKey: AnswerKey): Buffer | null {
    const fields = new Map<number, FieldValue>();
    for (const no of [...echoedFields, ...(extraEcho[responseMti] ?? [])]) {
      const value = msg.fields.get(no);
      if (value !== undefined) fields.set(no, value);
    }
    for (const [no, value] of Object.entries(result.fields ?? {})) fields.set(Number(no), value);
    fields.set(39, result.code);
    try {
      if (!terminal) return encodeMessage({ mti: responseMti, fields });
      const terminals = this.deps.terminals;
      return encodeMessageWithMac({ mti: responseMti, fields }, (input) => (answerKey === 'tmk' ? terminals.macUnderTmk(terminal, input) : terminals.mac(terminal, input)));
    } catch (error) {
      // An answer field out of profile is a bug; the terminal still gets a well-formed 96.
      this.deps.log.error({ err: error, iso: describeMessage(msg) }, 'iso: answer could not be encoded');
      const minimal = new Map<number, FieldValue>([[39, Code.systemMalfunction]]);
      for (const no of [11, 41]) if (msg.fields.has(no)) minimal.set(no, msg.fields.get(no)!);
      return encodeMessage({ mti: responseMti, fields: minimal });
    }
  }
}
