// Helpers that check the gateway's error shape: a Connect code plus a
// google.rpc.ErrorInfo detail in the groundcam.io domain.
import assert from "node:assert/strict";

import { Code, ConnectError } from "@connectrpc/connect";

import {
  type ErrorInfo,
  ErrorInfoSchema,
} from "../gen/google/rpc/error_details_pb.js";

/** ErrorInfo domain of every error the gateway returns. */
export const errorDomain = "groundcam.io";

/** Awaits call and returns its error, failing when the call succeeds. */
export async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to fail, but it succeeded");
}

/** Asserts the code of err and returns its one groundcam.io ErrorInfo. */
export function errorInfoOf(err: ConnectError, code: Code): ErrorInfo {
  assert.equal(
    err.code,
    code,
    `code: got ${Code[err.code]}, want ${Code[code]} (message: ${err.rawMessage})`,
  );
  const infos = err
    .findDetails(ErrorInfoSchema)
    .filter((info) => info.domain === errorDomain);
  assert.equal(infos.length, 1, `ErrorInfo details in domain ${errorDomain}`);
  return infos[0];
}
