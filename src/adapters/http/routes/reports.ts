// The nightly jobs' report files for the admin: a download of one file by name
// (GET /v1/admin/reports/:fileName) and the clearing file of a day as a table for the console
// (GET /v1/admin/console/clearing). Admin token only; names outside the jobs' pattern are refused.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { allow } from '../auth.js';
import { sendProblem } from '../problem.js';
import { findReport, latestReportDate, openReport, readReport } from '../../jobs/report-read.js';
import { clearingFileName } from '../../../app/jobs/clearing.js';
import { parseClearingCsv } from '../../../app/clearing-table.js';

export const reportsPath = '/v1/admin/reports';

const Fen = Type.Integer({ description: 'integer fen' });

export const reportRoutes: FastifyPluginAsyncTypebox<{ reportsDir: string }> = async (app, { reportsDir }) => {
  app.addHook('preValidation', allow('admin'));

  app.get(
    `${reportsPath}/:fileName`,
    {
      schema: {
        tags: ['jobs'],
        summary: 'Download a job report file',
        description: 'A report file a nightly job wrote under REPORTS_DIR, e.g. clearing-2024-05-01.csv (the settlement file). Only names <job>-YYYY-MM-DD.csv|json.',
        params: Type.Object({ fileName: Type.String({ minLength: 1, maxLength: 100 }) }),
      },
    },
    async (request, reply) => {
      const found = await findReport(reportsDir, request.params.fileName);
      if (found.status === 'bad-name') return sendProblem(reply, 400, '30', 'a report file name is <job>-YYYY-MM-DD.csv or .json');
      if (found.status === 'missing') return sendProblem(reply, 404, '12', `no report file ${request.params.fileName}`, 'not found');
      if (found.status === 'too-large') return sendProblem(reply, 409, '12', `report file is ${found.bytes} bytes, more than this route serves`, 'conflict');
      const name = request.params.fileName;
      return reply
        .type(name.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('content-length', String(found.bytes))
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .send(openReport(found));
    },
  );

  app.get(
    '/v1/admin/console/clearing',
    {
      schema: {
        tags: ['console'],
        summary: 'Clearing results of a business day',
        description: "The clearing job's settlement file of the day read back as a table: per party count, gross, commission and net in integer fen, and the file's total. Default day: the newest clearing file.",
        querystring: Type.Object(
          { businessDate: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', format: 'date' })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            businessDate: Type.Union([Type.String(), Type.Null()]),
            fileName: Type.Union([Type.String(), Type.Null()], { description: 'null when the clearing job has not written a file for the day' }),
            download: Type.Union([Type.String(), Type.Null()]),
            rows: Type.Array(
              Type.Object({
                partyType: Type.String(),
                partyId: Type.String(),
                account: Type.String(),
                lateDate: Type.Union([Type.String(), Type.Null()]),
                count: Type.Integer(),
                grossFen: Fen,
                commissionRate: Type.String(),
                commissionFen: Fen,
                netFen: Fen,
              }),
            ),
            total: Type.Union([Type.Object({ count: Type.Integer(), grossFen: Fen, commissionFen: Fen, netFen: Fen }), Type.Null()]),
            truncated: Type.Boolean(),
          }),
        },
      },
    },
    async (request, reply) => {
      const businessDate = request.query.businessDate ?? (await latestReportDate(reportsDir, 'clearing'));
      const none = { businessDate: businessDate ?? null, fileName: null, download: null, rows: [], total: null, truncated: false };
      if (!businessDate) return none;
      const fileName = clearingFileName(businessDate);
      const found = await findReport(reportsDir, fileName);
      if (found.status === 'missing') return none;
      if (found.status !== 'ok') return sendProblem(reply, 409, '12', `the clearing file ${fileName} cannot be shown here; download it`, 'conflict');
      let table;
      try {
        table = parseClearingCsv(businessDate, await readReport(found));
      } catch (error) {
        request.log.warn({ err: error, fileName }, 'clearing file unreadable');
        return sendProblem(reply, 409, '95', `the clearing file ${fileName} is not in the expected format`, 'conflict');
      }
      return { ...table, fileName, download: `${reportsPath}/${fileName}` };
    },
  );
};
