package bench

import (
	"encoding/json"
	"fmt"
	"net/http"

	"connectrpc.com/vanguard"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"sigs.k8s.io/yaml"

	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
	protofiles "github.com/groundcam/groundcam-gateway/proto"
)

// gatewayServices are the services that the gateway serves and the HTTP
// rules bind.
var gatewayServices = []string{
	groundcamv1connect.AuthServiceName,
	groundcamv1connect.AgentServiceName,
	groundcamv1connect.SessionServiceName,
	groundcamv1connect.CreditServiceName,
	groundcamv1connect.WebhookServiceName,
	groundcamv1connect.OrganizationServiceName,
	groundcamv1connect.StatisticsServiceName,
	groundcamv1connect.ConfigurationServiceName,
	groundcamv1connect.AppointmentServiceName,
}

// newVanguard returns a vanguard transcoder that serves the gateway's HTTP
// rules (proto/groundcam/v1/http.yaml) by calling handler, which serves
// the gateway's Connect procedures, with the Connect protocol and binary
// proto bodies. Its REST responses are protojson, not the upstream's
// envelope.
//
// The rules reach vanguard as google.api.http options on copies of the
// service descriptors. NOTE: vanguard v0.4.0's WithRules applies a rule to
// every method whose name starts with the selector, so the rule of
// SessionService.CreateSession would also bind CreateSessionsBulk.
func newVanguard(handler http.Handler) (http.Handler, error) {
	rules, err := httpRules()
	if err != nil {
		return nil, err
	}
	schemas, err := annotatedServices(rules)
	if err != nil {
		return nil, err
	}
	services := make([]*vanguard.Service, 0, len(schemas))
	for _, schema := range schemas {
		services = append(services, vanguard.NewServiceWithSchema(schema, handler,
			vanguard.WithTargetProtocols(vanguard.ProtocolConnect),
			vanguard.WithTargetCodecs(vanguard.CodecProto),
		))
	}
	transcoder, err := vanguard.NewTranscoder(services)
	if err != nil {
		return nil, fmt.Errorf("vanguard transcoder: %w", err)
	}
	return transcoder, nil
}

// annotatedServices returns the gateway's service descriptors rebuilt with
// each method's HTTP rule as its google.api.http option.
func annotatedServices(rules []*annotations.HttpRule) ([]protoreflect.ServiceDescriptor, error) {
	byMethod := make(map[string]*annotations.HttpRule, len(rules))
	for _, rule := range rules {
		byMethod[rule.GetSelector()] = rule
	}
	rebuilt := make(map[string]protoreflect.FileDescriptor)
	var services []protoreflect.ServiceDescriptor
	for _, name := range gatewayServices {
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("find service %s: %w", name, err)
		}
		path := desc.ParentFile().Path()
		file, ok := rebuilt[path]
		if !ok {
			if file, err = annotateFile(desc.ParentFile(), byMethod); err != nil {
				return nil, err
			}
			rebuilt[path] = file
		}
		services = append(services, file.Services().ByName(desc.Name()))
	}
	return services, nil
}

// annotateFile returns a copy of file whose methods carry their rules.
func annotateFile(file protoreflect.FileDescriptor, byMethod map[string]*annotations.HttpRule) (protoreflect.FileDescriptor, error) {
	fdp := protodesc.ToFileDescriptorProto(file)
	for _, svc := range fdp.GetService() {
		for _, method := range svc.GetMethod() {
			selector := fdp.GetPackage() + "." + svc.GetName() + "." + method.GetName()
			rule, ok := byMethod[selector]
			if !ok {
				continue
			}
			opts, _ := proto.Clone(method.GetOptions()).(*descriptorpb.MethodOptions)
			if opts == nil {
				opts = &descriptorpb.MethodOptions{}
			}
			proto.SetExtension(opts, annotations.E_Http, rule)
			method.Options = opts
		}
	}
	annotated, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		return nil, fmt.Errorf("annotate %s: %w", file.Path(), err)
	}
	return annotated, nil
}

// httpRules parses the embedded google.api.Service YAML into its HTTP
// rules.
func httpRules() ([]*annotations.HttpRule, error) {
	raw, err := yaml.YAMLToJSON(protofiles.HTTPRules)
	if err != nil {
		return nil, fmt.Errorf("parse http rules: %w", err)
	}
	var service struct {
		HTTP struct {
			Rules []json.RawMessage `json:"rules"`
		} `json:"http"`
	}
	if err := json.Unmarshal(raw, &service); err != nil {
		return nil, fmt.Errorf("parse http rules: %w", err)
	}
	rules := make([]*annotations.HttpRule, 0, len(service.HTTP.Rules))
	for i, msg := range service.HTTP.Rules {
		rule := new(annotations.HttpRule)
		if err := protojson.Unmarshal(msg, rule); err != nil {
			return nil, fmt.Errorf("parse http rule %d: %w", i, err)
		}
		rules = append(rules, rule)
	}
	return rules, nil
}
