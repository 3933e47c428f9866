// Where the gateway under test listens, read from the environment.

/** Gateway that the tests call, with an optional API key to send. */
export interface GatewayTarget {
  /** Origin such as http://127.0.0.1:8080. A path in the variable is dropped. */
  baseUrl: string;
  /** API key for calls that send an explicit Authorization header. */
  apiKey: string | undefined;
}

/** Environment variable with the gateway's base URL. */
export const urlVariable = "GATEWAY_TEST_URL";

/** Environment variable with an API key the gateway's upstream accepts. */
export const keyVariable = "GATEWAY_TEST_API_KEY";

/**
 * Reads the target from the environment. Returns undefined when
 * GATEWAY_TEST_URL is unset and throws when it is not an http URL.
 */
export function readTarget(
  env: NodeJS.ProcessEnv = process.env,
): GatewayTarget | undefined {
  const raw = env[urlVariable];
  if (raw === undefined || raw === "") {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      `${urlVariable}=${JSON.stringify(raw)} is not a URL: use a form like http://127.0.0.1:8080`,
    );
  }
  if (url.protocol !== "http:") {
    throw new Error(
      `${urlVariable}=${JSON.stringify(raw)} must use http: the tests speak cleartext HTTP/1.1 and h2c`,
    );
  }
  const apiKey = env[keyVariable];
  return {
    baseUrl: url.origin,
    apiKey: apiKey === undefined || apiKey === "" ? undefined : apiKey,
  };
}
