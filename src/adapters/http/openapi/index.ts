// Every documented operation, keyed `METHOD /path` as in the OpenAPI document, in example order.
import type { OperationDoc } from './operation-doc.js';
import { coreOperations } from './core-operations.js';
import { areaOperations } from './area-operations.js';

export const metricsOperation: Record<string, OperationDoc> = {
  'GET /metrics': {
    summary: 'Prometheus metrics',
    description: 'Prometheus text exposition: process, HTTP and business metrics (docs/operations.md, "Metrics"). Public.',
    caller: 'public',
    status: 200,
  },
};

export const operations: Record<string, OperationDoc> = { ...metricsOperation, ...coreOperations, ...areaOperations };
export type { OperationDoc, ExampleCaller } from './operation-doc.js';
export { problemStatuses } from './operation-doc.js';
