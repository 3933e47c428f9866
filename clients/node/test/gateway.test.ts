// Calls a running gateway with the generated clients over every transport
// in transports.ts. scripts/test-node starts the gateway with its embedded
// simulator and sets GATEWAY_TEST_URL and GATEWAY_TEST_API_KEY.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";

import { AgentRole, AgentService } from "../../../gen/ts/groundcam/v1/agents_pb.js";
import {
  SessionMode,
  SessionService,
  SessionSource,
  SessionStatus,
  SmsStatus,
} from "../../../gen/ts/groundcam/v1/sessions_pb.js";
import type { Metadata } from "../../../gen/ts/groundcam/v1/types_pb.js";
import { errorDomain, errorInfoOf, rejection } from "./errors.js";
import { keyVariable, readTarget, urlVariable } from "./target.js";
import { transportKinds } from "./transports.js";

const target = readTarget();

/** A valid E.164 number in the French mobile range. */
const clientPhone = "+33612345678";

/** Metadata with one value of each kind the contract allows. */
const metadataInit = {
  fields: {
    ticket: { kind: { case: "stringValue", value: "T-1042" } },
    priority: { kind: { case: "numberValue", value: 3 } },
    vip: { kind: { case: "boolValue", value: true } },
  },
} as const;

/** The plain values of metadataInit. */
const metadataValues = { ticket: "T-1042", priority: 3, vip: true };

/** Converts Metadata to plain values, for readable assertion diffs. */
function plainMetadata(metadata: Metadata | undefined): Record<string, unknown> {
  assert.ok(metadata, "metadata is set");
  return Object.fromEntries(
    Object.entries(metadata.fields).map(([key, value]) => [key, value.kind.value]),
  );
}

if (target === undefined) {
  test("gateway clients", {
    skip: `${urlVariable} is not set: run scripts/test-node, or start a gateway and set ${urlVariable}=http://127.0.0.1:8080`,
  });
} else {
  const { baseUrl, apiKey } = target;
  for (const kind of transportKinds) {
    describe(kind.name, () => {
      const open = kind.open(baseUrl);
      after(() => open.close());
      const agents = createClient(AgentService, open.transport);
      const sessions = createClient(SessionService, open.transport);

      test("lists agents with decoded roles", async () => {
        const res = await agents.listAgents({});
        assert.ok(res.agents.length > 0, "at least one agent");
        assert.equal(res.total, res.agents.length, "total");
        for (const agent of res.agents) {
          assert.ok(agent.id !== "", `agent ${agent.email} has an id`);
          assert.ok(agent.role in AgentRole, `role ${agent.role} is an AgentRole value`);
          assert.notEqual(agent.role, AgentRole.UNSPECIFIED, `role of agent ${agent.id}`);
          assert.equal(agent.disabled, false, `agent ${agent.id} is enabled`);
        }
      });

      test("filters agents by role", async () => {
        const res = await agents.listAgents({ role: AgentRole.OWNER });
        assert.ok(res.agents.length > 0, "at least one owner");
        for (const agent of res.agents) {
          assert.equal(agent.role, AgentRole.OWNER, `role of agent ${agent.id}`);
        }
      });

      test(
        "sends an explicit Authorization header",
        { skip: apiKey === undefined ? `${keyVariable} is not set` : false },
        async () => {
          // The gateway's default key is the simulator's first demo key, so
          // the explicit key must see the same organization.
          const byDefault = await agents.listAgents({});
          const explicit = await agents.listAgents(
            {},
            { headers: { Authorization: `Bearer ${apiKey}` } },
          );
          assert.deepEqual(
            explicit.agents.map((agent) => agent.id),
            byDefault.agents.map((agent) => agent.id),
          );
        },
      );

      test("rejects an unknown API key", async () => {
        const err = await rejection(
          agents.listAgents({}, { headers: { Authorization: "Bearer gc_unknown_key" } }),
        );
        const info = errorInfoOf(err, Code.Unauthenticated);
        assert.equal(info.metadata["http_status"], "401", "http_status");
      });

      test("creates a session and reads it back", async () => {
        const list = await agents.listAgents({ role: AgentRole.AGENT });
        assert.ok(list.agents.length > 0, "at least one agent with the agent role");
        const agentId = list.agents[0].id;

        const created = await sessions.createSession({
          idempotencyKey: randomUUID(),
          agentId,
          mode: SessionMode.CAMERA,
          clientPhone,
          clientName: "Jeanne Martin",
          crmId: "CRM-7",
          metadata: metadataInit,
          sendSms: true,
          sessionTags: ["node-test"],
        });
        const session = created.session;
        assert.ok(session, "response has a session");
        assert.ok(session.id, "session id");
        assert.equal(session.status, SessionStatus.PENDING, "status");
        assert.equal(session.mode, SessionMode.CAMERA, "mode");
        assert.equal(session.crmId, "CRM-7", "crmId");
        assert.deepEqual(plainMetadata(session.metadata), metadataValues);
        assert.deepEqual(session.sessionTags, ["node-test"], "sessionTags");
        assert.equal(session.sms?.status, SmsStatus.SENT, "sms.status");
        assert.equal(session.sms?.to, clientPhone, "sms.to");
        assert.match(session.clientUrl ?? "", /^https?:\/\//, "clientUrl");
        assert.match(session.agentUrl ?? "", /^https?:\/\//, "agentUrl");
        assert.ok(session.createdAt, "createdAt");
        assert.ok(session.expiresAt, "expiresAt");
        assert.ok(
          timestampDate(session.expiresAt) > timestampDate(session.createdAt),
          "expiresAt is after createdAt",
        );

        const got = (await sessions.getSession({ id: session.id })).session;
        assert.ok(got, "GetSession response has a session");
        assert.equal(got.id, session.id, "id");
        assert.equal(got.status, SessionStatus.PENDING, "status");
        assert.equal(got.agentId, agentId, "agentId");
        assert.equal(got.clientPhone, clientPhone, "clientPhone");
        assert.equal(got.clientName, "Jeanne Martin", "clientName");
        assert.equal(got.crmId, session.crmId, "crmId");
        assert.equal(got.mode, SessionMode.CAMERA, "mode");
        assert.equal(got.source, SessionSource.API, "source");
        assert.deepEqual(plainMetadata(got.metadata), metadataValues);
        assert.deepEqual(got.sessionTags, session.sessionTags, "sessionTags");
        assert.equal(got.clientUrl, session.clientUrl, "clientUrl");
        assert.equal(got.agentUrl, session.agentUrl, "agentUrl");
        assert.deepEqual(got.createdAt, session.createdAt, "createdAt");
        assert.deepEqual(got.expiresAt, session.expiresAt, "expiresAt");
      });

      test("rejects an invalid phone number", async () => {
        const list = await agents.listAgents({ role: AgentRole.AGENT });
        assert.ok(list.agents.length > 0, "at least one agent with the agent role");
        const err = await rejection(
          sessions.createSession({
            idempotencyKey: randomUUID(),
            agentId: list.agents[0].id,
            mode: SessionMode.CAMERA,
            clientPhone: "12345",
          }),
        );
        const info = errorInfoOf(err, Code.InvalidArgument);
        assert.equal(info.reason, "INVALID_PHONE", "reason");
        assert.equal(info.domain, errorDomain, "domain");
        assert.equal(info.metadata["http_status"], "400", "http_status");
      });

      test("returns NotFound for an unknown session", async () => {
        const err = await rejection(sessions.getSession({ id: "ses_does_not_exist" }));
        const info = errorInfoOf(err, Code.NotFound);
        assert.equal(info.metadata["http_status"], "404", "http_status");
      });
    });
  }
}
