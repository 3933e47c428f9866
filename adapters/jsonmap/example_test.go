package jsonmap_test

import (
	"fmt"
	"net/url"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/groundcam/groundcam-gateway/adapters/jsonmap"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// The upstream client writes a request body without the fields bound to the
// URL path; http_header fields are left out on their own.
func ExampleMarshalOptions_Marshal() {
	req := &groundcamv1.UpdateSessionRequest{
		Id:    "Xk9mPq2rT4wZ",
		Notes: &groundcamv1.NullableString{}, // JSON null clears the notes
	}
	opts := jsonmap.MarshalOptions{Omit: func(fd protoreflect.FieldDescriptor) bool {
		return fd.Name() == "id"
	}}
	body, err := opts.Marshal(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(body))
	// Output: {"notes":null}
}

// The upstream's data object decodes into the response message; unknown keys
// are ignored unless Strict is set.
func ExampleUnmarshal() {
	data := []byte(`{"agents":[{"id":"abc","role":"agent","joinedAt":"2025-06-15T12:00:00+02:00"}],"total":1,"new":true}`)
	var resp groundcamv1.ListAgentsResponse
	if err := jsonmap.Unmarshal(data, &resp); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.GetAgents()[0].GetRole(), resp.GetAgents()[0].GetJoinedAt().AsTime())
	// Output: AGENT_ROLE_AGENT 2025-06-15 10:00:00 +0000 UTC
}

// Query parameters go both ways by JSON name; map entries use dotted names.
func ExampleEncodeQuery() {
	req := &groundcamv1.ListSessionsRequest{
		Status:   groundcamv1.SessionStatus_SESSION_STATUS_PENDING,
		Limit:    proto.Int32(50),
		Metadata: map[string]string{"department": "support"},
	}
	values, err := jsonmap.EncodeQuery(req, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(values.Encode())

	err = jsonmap.DecodeQuery(url.Values{"limit": {"many"}}, &groundcamv1.ListSessionsRequest{})
	fmt.Println(err)
	// Output:
	// limit=50&metadata.department=support&status=pending
	// invalid value "many" for query parameter "limit": use an integer between -2147483648 and 2147483647
}
