// Names and URLs of the test databases, derived from DATABASE_URL (or the default).

export const templateDb = 'cct_template';

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
