// Names and URLs of the test databases, derived from DATABASE_URL (or the default).

/** The migrated template of this test run (named by the global setup). */
export function templateDbName(): string {
  const name = process.env.CCT_TEMPLATE_DB;
  if (!name) throw new Error('CCT_TEMPLATE_DB is not set: run integration tests through vitest (the global setup names the template)');
  return name;
}

export function baseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/citizencard';
}

export function urlFor(database: string): string {
  const url = new URL(baseUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

export function adminUrl(): string {
  return urlFor('postgres');
}

/** The template's name as seen by a test worker (set before workers start). */
export const templateDb = process.env.CCT_TEMPLATE_DB ?? 'cct_tpl_unset';
