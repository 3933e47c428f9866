package server

import (
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// strictJSONCodec is connect-go's JSON codec without its leniency: an
// unknown field or enum name in a request is an error instead of being
// dropped, so a misspelled "mode" never creates a session with the
// default mode.
type strictJSONCodec struct{}

var _ connect.Codec = strictJSONCodec{}

// Name returns "json", so the codec replaces connect-go's default for the
// application/json content type.
func (strictJSONCodec) Name() string { return "json" }

func (strictJSONCodec) Marshal(message any) ([]byte, error) {
	msg, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("marshal %T: not a protobuf message", message)
	}
	return protojson.MarshalOptions{}.Marshal(msg)
}

func (strictJSONCodec) Unmarshal(data []byte, message any) error {
	msg, ok := message.(proto.Message)
	if !ok {
		return fmt.Errorf("unmarshal into %T: not a protobuf message", message)
	}
	if len(data) == 0 {
		// An empty body is the empty message, as connect-go treats it.
		proto.Reset(msg)
		return nil
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, msg); err != nil {
		return fmt.Errorf("invalid JSON request: %w", err)
	}
	return nil
}
