// Completes the generated OpenAPI document (@fastify/swagger's transformObject): each operation's
// summary, description, examples and error answers from the catalogue, and named components.
import { ProblemSchema } from '../problem.js';
import { codeMeaning } from '../../../domain/codes.js';
import { OfflineTapSchema } from '../routes/transit.js';
import { operations, problemStatuses, type OperationDoc } from './index.js';
import { responseExamples } from './response-examples.js';

type Json = Record<string, unknown>;
type Content = Record<string, { schema?: Json; example?: unknown }>;
interface Operation extends Json {
  parameters?: { in: string; name: string; example?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: Json; example?: unknown }> };
  responses?: Record<string, { description?: string; content?: Content }>;
  security?: unknown[];
}

const methods = ['get', 'post', 'put', 'delete', 'patch'];
const problemRef = { $ref: '#/components/schemas/Problem' };
/** Statuses every guarded operation may answer before its handler runs. */
const guardStatuses = [401, 403];

const plain = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json;

/** A TypeBox schema as an OpenAPI 3.0 schema: `const` (not in 3.0) becomes a one-value `enum`, as @fastify/swagger does in paths. */
function openApiSchema(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema), (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && 'const' in value) {
      const { const: only, ...rest } = value as Json;
      return { ...rest, enum: [only] };
    }
    return value;
  }) as Json;
}

/** The title a problem carries: its code's meaning (sendProblem), unless the call names it. */
const problemTitle = (code: string): string => (codeMeaning as Record<string, string>)[code] ?? 'error';

function problemResponse(status: number): { description: string; content: Content } {
  const meaning = problemStatuses[status]!;
  return {
    description: meaning.description,
    content: { 'application/problem+json': { schema: problemRef, example: { type: 'about:blank', title: problemTitle(meaning.codes[0]!), status, code: meaning.codes[0] } } },
  };
}

function errorStatuses(doc: OperationDoc, op: Operation): number[] {
  const statuses = new Set<number>(doc.errors ?? []);
  // Problems a route declares itself (the login's 401, 423, 429) are documented the same way.
  for (const status of Object.keys(op.responses ?? {}).map(Number)) if (status >= 400) statuses.add(status);
  const hasInput = Boolean(op.requestBody) || (op.parameters ?? []).length > 0;
  if (hasInput) statuses.add(400);
  if (doc.caller !== 'public') guardStatuses.forEach((s) => statuses.add(s));
  // /v1 calls wait for recovery and for Redis; readiness answers 503 while not ready.
  statuses.add(503);
  return [...statuses];
}

/** Answers shared by several operations, named as components (the first operation's schema). */
const namedAnswers: Record<string, string[]> = {
  PaymentAnswer: ['POST /v1/payments'],
  MoneyAnswer: ['POST /v1/topups', 'POST /v1/refunds'],
  ReversalAnswer: ['POST /v1/payments/{paymentId}/reverse'],
  TapAnswer: ['POST /v1/taps'],
  TapBatchAnswer: ['POST /v1/taps/batch'],
  CardBalance: ['GET /v1/cards/{cardNo}/balance'],
  TopupOrder: ['POST /v1/citizen/topup-orders', 'GET /v1/citizen/topup-orders/{orderId}', 'POST /v1/citizen/topup-orders/{orderId}/cancel'],
  TopupOrderConfirmation: ['POST /v1/topup-orders/{orderId}/confirm', 'POST /v1/admin/topup-orders/{orderId}/confirm'],
  MedicalSplit: ['POST /v1/medical/presettle'],
  MedicalSettlement: ['POST /v1/medical/settle'],
  RegistryPerson: ['GET /v1/registry/people', 'GET /v1/registry/people/{personId}'],
  CitizenTransactions: ['GET /v1/citizen/transactions'],
};

/** Moves the answer schemas of `namedAnswers` into components; an operation whose schema differs keeps its own. */
function nameAnswers(paths: Record<string, Record<string, Operation>>, schemas: Json): void {
  for (const [name, keys] of Object.entries(namedAnswers)) {
    let named: string | undefined;
    for (const key of keys) {
      const [method, path] = key.split(' ') as [string, string];
      const doc = operations[key];
      const media = doc && paths[path]?.[method.toLowerCase()]?.responses?.[String(doc.status)]?.content?.['application/json'];
      if (!media?.schema) continue;
      const text = JSON.stringify(media.schema);
      if (named === undefined) {
        named = text;
        schemas[name] = media.schema;
      }
      if (text === named) media.schema = { $ref: `#/components/schemas/${name}` };
    }
  }
}

const successDescriptions: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted: queued; poll the job' };

/** The media type of an answer that is text, not JSON. */
const textType = (path: string) => (path.endsWith('.pem') ? 'application/x-pem-file' : 'text/plain; version=0.0.4');

function enrichOperation(key: string, path: string, doc: OperationDoc, op: Operation): void {
  op.summary = doc.summary;
  op.description = doc.description;
  if (doc.caller === 'public') op.security = [];
  for (const p of op.parameters ?? []) {
    const value = p.in === 'path' ? doc.params?.[p.name] : p.in === 'query' ? doc.query?.[p.name] : undefined;
    if (value !== undefined) p.example = value;
  }
  const json = op.requestBody?.content?.['application/json'];
  if (json && doc.body !== undefined) json.example = doc.body;
  op.responses ??= {};
  for (const status of [doc.status, ...errorStatuses(doc, op)]) {
    const key = String(status);
    if (status < 400) {
      const success = (op.responses[key] ??= { description: '' });
      // @fastify/swagger's placeholder says nothing; a decline is a 200 too (`approved: false`).
      if (!success.description || success.description === 'Default Response') success.description = successDescriptions[status] ?? 'OK';
      // A 200 and a 201 of the same call (created vs. replayed) share the schema.
      const other = Object.values(op.responses).find((r) => r.content);
      if (!success.content && other?.content) success.content = plain(other.content) as Content;
      continue;
    }
    // Problems are sent as application/problem+json, whatever a route declared (the login's are application/json).
    op.responses[key] = problemResponse(status);
  }
  for (const [status, answer] of Object.entries(doc.answers ?? {})) {
    op.responses[status] = { description: answer.description, content: { 'application/json': { example: answer.example } } };
  }
  const example = responseExamples[key];
  const success = op.responses[String(doc.status)];
  if (example !== undefined && success) {
    success.content ??= typeof example === 'string' ? { [textType(path)]: { schema: { type: 'string' } } } : { 'application/json': {} };
    const media = success.content && Object.values(success.content)[0];
    if (media) media.example = example;
  }
}

/** The transformObject of @fastify/swagger. */
export function enrichOpenApi({ openapiObject }: { openapiObject: Json }): Json {
  const doc = openapiObject as Json & { paths?: Record<string, Record<string, Operation>>; components?: Json & { schemas?: Json } };
  doc.components ??= {};
  doc.components.schemas = { ...(doc.components.schemas ?? {}), Problem: openApiSchema(ProblemSchema), OfflineTap: openApiSchema(OfflineTapSchema) };
  delete (doc.components.schemas.Problem as Json).$id;
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of methods) {
      const op = item[method];
      if (!op) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const entry = operations[key];
      if (entry) enrichOperation(key, path, entry, op);
    }
  }
  nameAnswers(doc.paths ?? {}, doc.components.schemas);
  const batch = doc.paths?.['/v1/taps/batch']?.post?.requestBody?.content?.['application/json']?.schema as Json | undefined;
  const taps = (batch?.properties as Json | undefined)?.taps as Json | undefined;
  if (taps) taps.items = { $ref: '#/components/schemas/OfflineTap' };
  return doc;
}
