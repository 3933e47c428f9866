package server

import (
	"fmt"
	"runtime"
	"sync"

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

// protoCodec is connect-go's binary proto codec, except that a
// [sharedMessage] is written as the bytes it was decoded from, without
// encoding it again. A cache hit then costs a copy of the cached bytes.
type protoCodec struct{}

var _ connect.Codec = protoCodec{}

// Name returns "proto", so the codec replaces connect-go's default for
// Connect, gRPC and gRPC-Web.
func (protoCodec) Name() string { return "proto" }

func (c protoCodec) Marshal(message any) ([]byte, error) {
	return c.MarshalAppend(nil, message)
}

// MarshalAppend appends the encoding of message to dst. connect-go calls it
// with a pooled buffer.
func (protoCodec) MarshalAppend(dst []byte, message any) ([]byte, error) {
	msg, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("marshal %T: not a protobuf message", message)
	}
	if wire, ok := sharedEncodings.Load(msg); ok {
		return append(dst, wire.([]byte)...), nil
	}
	return proto.MarshalOptions{}.MarshalAppend(dst, msg)
}

func (protoCodec) Unmarshal(data []byte, message any) error {
	msg, ok := message.(proto.Message)
	if !ok {
		return fmt.Errorf("unmarshal into %T: not a protobuf message", message)
	}
	return proto.Unmarshal(data, msg)
}

// sharedMessage is a cached response decoded once and sent by every hit of
// its cache entry. Its message must not be modified.
type sharedMessage struct {
	msg proto.Message
}

// sharedEncodings maps the message of each live [sharedMessage] to the
// bytes it was decoded from, for [protoCodec].
var sharedEncodings sync.Map // proto.Message → []byte

// newSharedMessage returns msg, decoded from wire, as a shared message. The
// encoding stays registered until the sharedMessage is garbage, which
// happens once the cache has dropped its entry. A hit still sending msg
// after that gets it encoded again, which gives equal bytes.
func newSharedMessage(msg proto.Message, wire []byte) *sharedMessage {
	shared := &sharedMessage{msg: msg}
	sharedEncodings.Store(msg, wire)
	runtime.AddCleanup(shared, func(msg proto.Message) { sharedEncodings.Delete(msg) }, msg)
	return shared
}
