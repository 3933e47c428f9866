package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/groundcam/groundcam-gateway/adapters/jsonmap"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// restCodec is the REST face's runtime.Marshaler for every media type. It
// writes a response as the upstream's envelope, {"data": <message>}, in
// the JSON mapping of adapters/jsonmap, and reads request bodies with the
// same mapping. It is stateless and safe for concurrent use.
type restCodec struct{}

var _ runtime.Marshaler = restCodec{}

// restContentType is the media type of every REST response, as the
// upstream sends it.
const restContentType = "application/json"

// optionalBodies lists the request messages whose JSON body the contract
// marks optional (requestBody.required is not true): an empty body is an
// empty message. Every other operation with a body rejects an empty one.
// TODO: the protos have no option for an optional body, so the list is kept
// here by hand. An (operation) field would keep it next to the HTTP rule.
var optionalBodies = map[protoreflect.FullName]bool{
	"groundcam.v1.EndSessionRequest":        true,
	"groundcam.v1.CancelAppointmentRequest": true,
}

// ContentType returns application/json.
func (restCodec) ContentType(any) string { return restContentType }

// Marshal returns {"data": <v>} for a proto message v; grpc-gateway passes
// the field that the HTTP rule's response_body names where there is one.
func (restCodec) Marshal(v any) ([]byte, error) {
	msg, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("marshal response: %T is not a proto message", v)
	}
	return appendEnvelope(make([]byte, 0, 512), msg)
}

// appendEnvelope appends {"data": <msg>} and a newline to b. A nil message
// is written as null.
func appendEnvelope(b []byte, msg proto.Message) ([]byte, error) {
	b = append(b, `{"data":`...)
	if msg == nil || !msg.ProtoReflect().IsValid() {
		b = append(b, "null"...)
	} else {
		var err error
		if b, err = (jsonmap.MarshalOptions{}).AppendMarshal(b, msg); err != nil {
			return nil, fmt.Errorf("marshal response: %w", err)
		}
	}
	return append(b, "}\n"...), nil
}

// Unmarshal reads a JSON object into the proto message v.
func (restCodec) Unmarshal(data []byte, v any) error {
	msg, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("unmarshal request: %T is not a proto message", v)
	}
	return jsonmap.Unmarshal(data, msg)
}

// NewDecoder returns a decoder of the request body r. It checks the body as
// the upstream does and records a rejection in the request's [restCall],
// from which the error handler writes the upstream's status and code.
func (restCodec) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		msg, ok := v.(proto.Message)
		if !ok {
			return fmt.Errorf("decode request: %T is not a proto message", v)
		}
		err := decodeBody(r, msg)
		var failure *restError
		if body, ok := r.(*restBody); ok && errors.As(err, &failure) {
			body.call.failure = failure
		}
		return err
	})
}

// NewEncoder returns an encoder that writes each message as the envelope.
func (restCodec) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := restCodec{}.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}

// decodeBody reads a request body into msg with the upstream's checks, in
// its order: size, emptiness, a JSON object, then the fields. It returns
// io.EOF for an empty body that the operation accepts, which leaves msg
// empty, and a *restError for a body it rejects.
func decodeBody(r io.Reader, msg proto.Message) error {
	data, err := io.ReadAll(r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &restError{
				status: http.StatusRequestEntityTooLarge,
				code:   "REQUEST_TOO_LARGE",
				message: fmt.Sprintf("Request body exceeds %d bytes; send a smaller JSON object",
					tooLarge.Limit),
			}
		}
		return &restError{status: http.StatusBadRequest, code: "INVALID_JSON",
			message: "Request body could not be read: " + err.Error()}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if optionalBodies[msg.ProtoReflect().Descriptor().FullName()] {
			return io.EOF
		}
		return &restError{status: http.StatusBadRequest, code: "INVALID_JSON",
			message: "Request body is empty; send a JSON object"}
	}
	if reason, ok := checkObject(data); !ok {
		return &restError{status: http.StatusBadRequest, code: "INVALID_JSON",
			message: "Request body is not a valid JSON object: " + reason}
	}
	if err := jsonmap.Unmarshal(data, msg); err != nil {
		return bodyFieldError(msg.ProtoReflect().Descriptor(), data, err)
	}
	return nil
}

// checkObject reports whether data is one JSON object and, when it is not, why
// not, in the upstream's words: "syntax error at byte 12", "the body is a
// JSON array, not an object" or "the body is null".
func checkObject(data []byte) (reason string, ok bool) {
	first := bytes.TrimLeft(data, " \t\r\n")
	if len(first) > 0 && first[0] == '{' && json.Valid(data) {
		return "", true
	}
	// Slow path, for the message only.
	var obj map[string]json.RawMessage
	err := json.Unmarshal(data, &obj)
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil && obj == nil:
		return "the body is null", false
	case err == nil:
		return "", true
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("syntax error at byte %d", syntaxErr.Offset), false
	case errors.As(err, &typeErr):
		return "the body is a JSON " + typeErr.Value + ", not an object", false
	}
	return strings.TrimPrefix(err.Error(), "json: "), false
}

// bodyFieldError describes a field of a JSON object body that does not fit
// its message, as the upstream's 400 INVALID_FIELD. An unknown enum string
// gets the contract's form, such as "mode must be one of: camera, screen",
// and an unknown webhook event the contract's own error, 400 INVALID_EVENT
// "Invalid event: session.unknown".
func bodyFieldError(md protoreflect.MessageDescriptor, data []byte, err error) *restError {
	e := &restError{status: http.StatusBadRequest, code: "INVALID_FIELD"}
	var syntaxErr *jsonmap.SyntaxError
	if !errors.As(err, &syntaxErr) || syntaxErr.Path == "" {
		e.message = "Request body does not match the operation: " + err.Error()
		return e
	}
	fd := fieldAtPath(md, syntaxErr.Path)
	switch {
	case fd == nil || fd.Enum() == nil:
		e.message = syntaxErr.Path + ": " + syntaxErr.Reason
	case fd.Enum().FullName() == webhookEventEnum:
		value, isString := jsonStringAt(data, syntaxErr.Path)
		if isString && strings.HasSuffix(syntaxErr.Path, "]") {
			e.code, e.message = "INVALID_EVENT", "Invalid event: "+value
			break
		}
		// Not a list of strings at all, as the upstream words it.
		name, _, _ := strings.Cut(syntaxErr.Path, "[")
		e.message = name + " must be an array of strings"
	default:
		e.message = enumMessage(syntaxErr.Path, fd.Enum())
	}
	return e
}

// webhookEventEnum is the enum of webhook event types. The contract rejects
// an unknown one with INVALID_EVENT.
var webhookEventEnum = groundcamv1.WebhookEventType(0).Descriptor().FullName()

// jsonStringAt returns the string at a jsonmap path such as "events[1]"
// in a JSON document, or "" when there is none.
func jsonStringAt(data []byte, path string) (string, bool) {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return "", false
	}
	for part := range strings.SplitSeq(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		v = obj[name]
		for rest != "" {
			index, tail, _ := strings.Cut(rest, "]")
			list, ok := v.([]any)
			i, err := strconv.Atoi(index)
			if !ok || err != nil || i < 0 || i >= len(list) {
				return "", false
			}
			v, rest = list[i], strings.TrimPrefix(tail, "[")
		}
	}
	s, ok := v.(string)
	return s, ok
}

// fieldAtPath finds the field that a jsonmap path such as
// "sessions[2].language" names, or nil.
func fieldAtPath(md protoreflect.MessageDescriptor, path string) protoreflect.FieldDescriptor {
	var fd protoreflect.FieldDescriptor
	for part := range strings.SplitSeq(path, ".") {
		if md == nil {
			return nil
		}
		name, _, _ := strings.Cut(part, "[")
		if fd = md.Fields().ByJSONName(name); fd == nil {
			return nil
		}
		fd = unwrapField(fd)
		md = fd.Message()
	}
	return fd
}

// unwrapField returns the inner field of a field whose message is an
// (unwrap) message with a single field, such as the list of
// WebhookEventTypeList, which the JSON shows in its place.
func unwrapField(fd protoreflect.FieldDescriptor) protoreflect.FieldDescriptor {
	for fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
		md := fd.Message()
		unwrap, _ := proto.GetExtension(md.Options(), groundcamv1.E_Unwrap).(bool)
		if !unwrap || md.Fields().Len() != 1 {
			break
		}
		fd = md.Fields().Get(0)
	}
	return fd
}

// restBody is a REST request body capped at the server's maximum size. It
// carries the request's [restCall] to the codec's decoder, which receives
// only the body.
type restBody struct {
	io.ReadCloser
	call *restCall
}
