// Route parameters, validated before they reach a key, a path or a page: an animal name, an
// image id (a UUID) and an upload time (ISO-8601 UTC; the original scripts wrote microseconds).
import { assertAnimal, assertImageId } from '../model.ts';
import { HttpError } from './http-error.ts';

const UPLOADED_AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

function badRequest<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

export const animalParam = (v: string | undefined): string => badRequest(() => assertAnimal(v));
export const imageIdParam = (v: string | undefined): string => badRequest(() => assertImageId(v));

export function uploadedAtParam(v: string | null): string {
  if (v === null || !UPLOADED_AT_RE.test(v)) {
    throw new HttpError(400, `invalid "at" ${JSON.stringify(v)}: expected the picture's uploaded_at, an ISO-8601 UTC instant such as 2026-02-19T16:31:30.970Z`);
  }
  return v;
}

export function limitParam(v: string | null, fallback: number, max: number): number {
  if (v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new HttpError(400, `invalid limit ${JSON.stringify(v)}: expected an integer from 1 to ${max}`);
  return n;
}
