// The shape of one operation's documentation: what it does, who calls it, a request that works
// against the demo data (`npm start`, SEED=1) and the answer it gets (test/integration/openapi.test.ts).

/** Who an example runs as: nobody, the admin token, a demo terminal (`terminal:BUS00001`), the
 * citizen of demo card 6200900000000030 (its login JWT) or the department created by the example
 * of POST /v1/admin/departments (its `ccd_` key). */
export type ExampleCaller = 'public' | 'admin' | 'citizen' | 'department' | `terminal:${string}`;

export interface OperationDoc {
  summary: string;
  description: string;
  caller: ExampleCaller;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** The status the example answers (what it answers: response-examples.ts). */
  status: number;
  /** Other statuses of the operation (besides 400/401/403/503, which every guarded operation has). */
  errors?: number[];
  /** Answers of a status that are not problem+json (readiness answers 503 with its checks). */
  answers?: Record<number, { description: string; example: unknown }>;
}

/** What each problem status means here, with the response codes (DESIGN §4) it carries. */
export const problemStatuses: Record<number, { description: string; codes: string[] }> = {
  400: { description: 'Bad request: the body, path or query fails its schema or a rule (code 30; 14 for a card number that fails Luhn where the card is looked up; 13 for an amount out of bounds)', codes: ['30', '14', '13'] },
  401: { description: 'No caller: the bearer token is missing, unknown or expired (code 63); at the citizen login, a wrong PIN or an unknown card (code 55, with `triesLeft`)', codes: ['63', '55'] },
  403: { description: 'A caller of the wrong kind, or a terminal not permitted this call (code 58)', codes: ['58'] },
  404: { description: 'Not found: no such route, card, terminal, order, job or person (codes 12, 14, 25, 58; an admin registration naming an unknown party is titled "not found")', codes: ['12', '14', '25', '58'] },
  409: { description: 'Conflict: the id was used before with different content, or the state does not allow it (codes 94, 58; titled "conflict" on admin registrations)', codes: ['94', '58'] },
  410: { description: 'Gone: the call was withdrawn (code 12)', codes: ['12'] },
  423: { description: 'Locked: the 5th wrong PIN in a row at the citizen login, and every try while locked (code 75, with `lockedUntil` and Retry-After)', codes: ['75'] },
  429: { description: 'Too many attempts or orders in a window (code 65)', codes: ['65'] },
  503: { description: 'Not available: starting (recovery not finished), overloaded, or Redis/PostgreSQL unreachable; nothing was done, retry after Retry-After (code 91)', codes: ['91'] },
};
