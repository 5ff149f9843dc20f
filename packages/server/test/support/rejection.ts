import { expect } from 'vitest';
import { TasdiqApiError } from '../../../client/src/index.ts';

/** The API error a call of the client library fails with (the test fails if it succeeds or fails otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<TasdiqApiError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TasdiqApiError);
  return error as TasdiqApiError;
}
