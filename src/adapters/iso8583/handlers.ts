// The ISO 8583 request pipeline: decode, identify the terminal (F41), check the MAC and the
// merchant (F42), detect duplicates (terminal + STAN + F7), run the message's handler, and encode
// the answer (echo + 39, MAC'd). Expected outcomes are values; only bugs are exceptions (→ 96).
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decodeMessage, encodeMessage, encodeMessageWithMac, fieldText, IsoFormatError, macInput, macOf, type FieldValue, type IsoMessage } from './codec.js';
import { describeMessage, describeRaw } from './mask.js';
import { macFieldPrimary, macFieldSecondary, requestMtis, responseMtiOf } from './spec.js';
import { currencyCny, echoedFields } from './fields.js';
import type { IsoTerminal, IsoTerminals } from './terminal-keys.js';
import { isoKeyText, type IsoKey, type IsoOp, type IsoStore } from './store.js';
import { Code, type ResponseCode } from '../../domain/codes.js';
import type { Logger } from '../../platform/logger.js';

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

/** Fields echoed beyond DESIGN §6's list, per answer: the network code, the original data, the batch. */
const extraEcho: Record<string, readonly number[]> = { '0810': [70], '0410': [90], '0430': [90], '0510': [60] };

export class IsoPipeline {
  private readonly inflight = new Map<string, { hash: string; promise: Promise<Answer> }>();

  constructor(private readonly deps: PipelineDeps) {}

  /** The running request with this key, if any (a reversal waits for its original). */
  inflightOf(keyText: string): Promise<Answer> | undefined {
    return this.inflight.get(keyText)?.promise;
  }

  /** Answers one framed message; null means close the connection (nothing could be answered). */
  async handle(raw: Buffer): Promise<Buffer | null> {
    let msg: IsoMessage;
    try {
      msg = decodeMessage(raw);
    } catch (error) {
      if (!(error instanceof IsoFormatError)) throw error;
      return this.formatError(raw, error);
    }
    const responseMti = responseMtiOf(msg.mti);
    if (!responseMti) {
      this.deps.log.warn({ iso: describeMessage(msg) }, 'iso: not a request MTI; closing');
      return null;
    }
    const started = performance.now();
    let terminal: IsoTerminal | null = null;
    let result: Answer;
    try {
      ({ answer: result, terminal } = await this.process(msg, raw));
    } catch (error) {
      this.deps.log.error({ err: error, iso: describeMessage(msg) }, 'iso: request failed');
      result = answer(Code.systemMalfunction);
    }
    this.deps.observe?.({ mti: msg.mti, msg, code: result.code, seconds: (performance.now() - started) / 1000 });
    const level = result.code === Code.securityViolation || result.code === Code.formatError ? 'warn' : result.code === Code.systemMalfunction ? 'error' : 'debug';
    if (this.deps.log.isLevelEnabled(level)) {
      this.deps.log[level]({ iso: describeMessage(msg), code: result.code, ms: Math.round((performance.now() - started) * 10) / 10 }, 'iso');
    }
    return this.encodeAnswer(msg, responseMti, result, terminal);
  }

  /** An immediate answer without processing (connection over its in-flight maximum: 91), MAC'd if the key is cached. */
  refuse(raw: Buffer, code: ResponseCode): Buffer | null {
    let msg: IsoMessage;
    try {
      msg = decodeMessage(raw);
    } catch (error) {
      if (error instanceof IsoFormatError) return this.formatError(raw, error);
      throw error;
    }
    const responseMti = responseMtiOf(msg.mti);
    if (!responseMti) return null;
    const terminalId = text(msg, 41)?.trimEnd();
    const terminal = terminalId ? (this.deps.terminals.peek(terminalId) ?? null) : null;
    this.deps.observe?.({ mti: msg.mti, msg, code, seconds: 0 });
    return this.encodeAnswer(msg, responseMti, answer(code), terminal);
  }

  private formatError(raw: Buffer, error: IsoFormatError): Buffer | null {
    const responseMti = error.mti ? responseMtiOf(error.mti) : undefined;
    this.deps.log.warn({ raw: describeRaw(raw), reason: error.reason, field: error.fieldNo, answered: !!responseMti }, 'iso: malformed message');
    if (!responseMti) return null;
    this.deps.observe?.({ mti: error.mti!, msg: null, code: Code.formatError, seconds: 0 });
    const fields = new Map<number, FieldValue>([[39, Code.formatError]]);
    if (error.stan) fields.set(11, error.stan);
    return encodeMessage({ mti: responseMti, fields });
  }

  private async process(msg: IsoMessage, raw: Buffer): Promise<{ answer: Answer; terminal: IsoTerminal | null }> {
    if (!(requestMtis as readonly string[]).includes(msg.mti)) return { answer: answer(Code.formatError), terminal: null };
    const terminalId = text(msg, 41)?.trimEnd();
    if (!terminalId) return { answer: answer(Code.formatError), terminal: null };
    let terminal = await this.deps.terminals.get(terminalId);
    if (!terminal) return { answer: answer(Code.notPermittedTerminal), terminal: null };

    const financial = msg.mti !== '0800';
    if (financial && !hasMac(msg)) return { answer: answer(Code.securityViolation), terminal };
    if (hasMac(msg)) {
      const check = await this.deps.terminals.verify(terminal, macInput(raw), macOf(raw));
      if (!check.ok) return { answer: answer(Code.securityViolation), terminal };
      terminal = check.terminal;
    }
    const ctx = terminal.context;
    if (terminal.row.status !== 'active' || ctx.kind !== 'pos' || !ctx.merchantId) return { answer: answer(Code.notPermittedTerminal), terminal };
    const merchant = text(msg, 42);
    if (merchant !== undefined && merchant.trimEnd() !== ctx.merchantId) return { answer: answer(Code.notPermittedTerminal), terminal };
    const currency = text(msg, 49);
    if (currency !== undefined && currency !== currencyCny) return { answer: answer(Code.formatError), terminal };

    if (!financial) return { answer: await this.deps.network.run(msg, terminal), terminal };
    const handler = this.deps.financial[msg.mti];
    const stan = text(msg, 11);
    const transmitted = text(msg, 7);
    if (!handler || !stan || !transmitted) return { answer: answer(Code.formatError), terminal };
    const key: IsoKey = { terminalId, stan, transmitted };
    const req: IsoRequest = { msg, terminal, key, keyText: isoKeyText(key) };
    return { answer: await this.once(req, requestHashOf(raw), handler), terminal };
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

  private encodeAnswer(msg: IsoMessage, responseMti: string, result: Answer, terminal: IsoTerminal | null): Buffer | null {
    const fields = new Map<number, FieldValue>();
    for (const no of [...echoedFields, ...(extraEcho[responseMti] ?? [])]) {
      const value = msg.fields.get(no);
      if (value !== undefined) fields.set(no, value);
    }
    for (const [no, value] of Object.entries(result.fields ?? {})) fields.set(Number(no), value);
    fields.set(39, result.code);
    try {
      return terminal ? encodeMessageWithMac({ mti: responseMti, fields }, (input) => this.deps.terminals.mac(terminal, input)) : encodeMessage({ mti: responseMti, fields });
    } catch (error) {
      // An answer field out of profile is a bug; the terminal still gets a well-formed 96.
      this.deps.log.error({ err: error, iso: describeMessage(msg) }, 'iso: answer could not be encoded');
      const minimal = new Map<number, FieldValue>([[39, Code.systemMalfunction]]);
      for (const no of [11, 41]) if (msg.fields.has(no)) minimal.set(no, msg.fields.get(no)!);
      return encodeMessage({ mti: responseMti, fields: minimal });
    }
  }
}
