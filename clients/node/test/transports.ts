// The client transports under test, covering every protocol the gateway serves.
import { Agent } from "node:http";

import type { Transport } from "@connectrpc/connect";
import {
  Http2SessionManager,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";

/** A transport and the function that closes its connections. */
export interface OpenTransport {
  transport: Transport;
  /** Closes pooled connections so the test process can exit. */
  close(): void;
}

/** A named way to build a transport for a base URL. */
export interface TransportKind {
  name: string;
  open(baseUrl: string): OpenTransport;
}

/** Opens an HTTP/1.1 transport over a keep-alive agent of its own. */
function http1(build: (agent: Agent) => Transport): OpenTransport {
  const agent = new Agent({ keepAlive: true });
  return { transport: build(agent), close: () => agent.destroy() };
}

/** Opens a cleartext HTTP/2 (h2c) transport over a session of its own. */
function http2(
  baseUrl: string,
  build: (sessionManager: Http2SessionManager) => Transport,
): OpenTransport {
  const sessionManager = new Http2SessionManager(baseUrl);
  return { transport: build(sessionManager), close: () => sessionManager.abort() };
}

/**
 * Every protocol the gateway serves on its one port. The Connect protocol
 * runs once with JSON over HTTP/1.1 and once with binary Protobuf over h2c.
 * gRPC needs HTTP/2, which on an http URL is h2c with prior knowledge.
 */
export const transportKinds: TransportKind[] = [
  {
    name: "Connect JSON over HTTP/1.1",
    open: (baseUrl) =>
      http1((agent) =>
        createConnectTransport({
          baseUrl,
          httpVersion: "1.1",
          useBinaryFormat: false,
          nodeOptions: { agent },
        }),
      ),
  },
  {
    name: "Connect binary over HTTP/2",
    open: (baseUrl) =>
      http2(baseUrl, (sessionManager) =>
        createConnectTransport({
          baseUrl,
          httpVersion: "2",
          useBinaryFormat: true,
          sessionManager,
        }),
      ),
  },
  {
    name: "gRPC over HTTP/2",
    open: (baseUrl) =>
      http2(baseUrl, (sessionManager) =>
        createGrpcTransport({ baseUrl, sessionManager }),
      ),
  },
  {
    name: "gRPC-Web over HTTP/1.1",
    open: (baseUrl) =>
      http1((agent) =>
        createGrpcWebTransport({
          baseUrl,
          httpVersion: "1.1",
          nodeOptions: { agent },
        }),
      ),
  },
];
