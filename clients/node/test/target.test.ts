// Unit tests of readTarget, which need no gateway.
import assert from "node:assert/strict";
import { test } from "node:test";

import { readTarget } from "./target.js";

test("readTarget without a URL", () => {
  assert.equal(readTarget({}), undefined);
  assert.equal(readTarget({ GATEWAY_TEST_URL: "" }), undefined);
});

test("readTarget with a URL and key", () => {
  const cases = [
    {
      env: { GATEWAY_TEST_URL: "http://127.0.0.1:8080" },
      want: { baseUrl: "http://127.0.0.1:8080", apiKey: undefined },
    },
    {
      env: { GATEWAY_TEST_URL: "http://127.0.0.1:8080/", GATEWAY_TEST_API_KEY: "" },
      want: { baseUrl: "http://127.0.0.1:8080", apiKey: undefined },
    },
    {
      env: { GATEWAY_TEST_URL: "http://localhost:1234", GATEWAY_TEST_API_KEY: "gc_live_x" },
      want: { baseUrl: "http://localhost:1234", apiKey: "gc_live_x" },
    },
  ];
  for (const { env, want } of cases) {
    assert.deepEqual(readTarget(env), want, JSON.stringify(env));
  }
});

test("readTarget rejects bad URLs", () => {
  const cases = [
    { url: "127.0.0.1:8080", message: /is not a URL|must use http/ },
    { url: "not a url", message: /is not a URL/ },
    { url: "https://127.0.0.1:8443", message: /must use http/ },
  ];
  for (const { url, message } of cases) {
    assert.throws(() => readTarget({ GATEWAY_TEST_URL: url }), message, url);
  }
});
