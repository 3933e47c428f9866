package proto

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"sigs.k8s.io/yaml"
)

// creditsFragment is a hand-written contract of GET /credits that matches
// CreditService.GetCredits. The cases below edit it to break one thing.
const creditsFragment = `
paths:
  /credits:
    get:
      operationId: getCredits
      responses:
        "200":
          content:
            application/json:
              schema:
                type: object
                properties:
                  data:
                    $ref: "#/components/schemas/CreditBalance"
components:
  schemas:
    CreditBalance:
      type: object
      properties:
        available: {type: integer}
        subscription:
          type: object
          properties:
            remaining: {type: integer}
            quota: {type: integer}
            resetsAt: {type: string, format: date-time, nullable: true}
        pack:
          type: object
          properties:
            remaining: {type: integer}
      required: [available, subscription, pack]
`

// screenshotsFragment is a hand-written contract of
// GET /sessions/{id}/screenshots that matches
// SessionService.GetSessionScreenshots.
const screenshotsFragment = `
paths:
  /sessions/{id}/screenshots:
    get:
      operationId: getSessionScreenshots
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: url_ttl, in: query, schema: {type: integer}}
      responses:
        "200":
          content:
            application/json:
              schema:
                type: object
                properties:
                  data:
                    type: object
                    properties:
                      screenshots:
                        type: array
                        items:
                          type: object
                          properties:
                            id: {type: string}
                            url: {type: string}
                            timestamp: {type: string, format: date-time}
                            location:
                              type: object
                              nullable: true
                              properties:
                                latitude: {type: number}
                                longitude: {type: number}
                            tags: {type: array, items: {type: string}}
                          required: [id, url, timestamp]
`

// endSessionFragment is a hand-written contract of POST /sessions/{id}/end
// that matches SessionService.EndSession, with the response left open.
const endSessionFragment = `
paths:
  /sessions/{id}/end:
    post:
      operationId: endSession
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                agentDuration: {type: number}
                clientDuration: {type: number}
                closureTypeName: {type: string, nullable: true}
                notes: {type: string, nullable: true}
      responses:
        "200":
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {type: object}
`

// statsFragment is a hand-written contract of GET /stats whose period
// parameter has a value that StatsPeriod lacks.
const statsFragment = `
paths:
  /stats:
    get:
      operationId: getStats
      parameters:
        - {name: period, in: query, schema: {type: string, enum: [day, week, month, year]}}
      responses:
        "200":
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {type: object}
`

func TestCheckOperationReportsDifferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rpc      protoreflect.FullName
		fragment string
		edit     [2]string // replace edit[0] by edit[1] in fragment; empty keeps it
		want     []string  // substrings of the problems; none means no problem
	}{
		{
			name:     "credits match",
			rpc:      "groundcam.v1.CreditService.GetCredits",
			fragment: creditsFragment,
		},
		{
			name:     "missing nested response property",
			rpc:      "groundcam.v1.CreditService.GetCredits",
			fragment: creditsFragment,
			edit: [2]string{
				"quota: {type: integer}",
				"quota: {type: integer}\n            rolloverCredits: {type: integer}",
			},
			want: []string{`response data.subscription: property "rolloverCredits" has no field`},
		},
		{
			name:     "property without field in referenced schema",
			rpc:      "groundcam.v1.CreditService.GetCredits",
			fragment: creditsFragment,
			edit: [2]string{
				"available: {type: integer}",
				"available: {type: integer}\n        currency: {type: string}",
			},
			want: []string{`property "currency" has no field in groundcam.v1.CreditBalance`},
		},
		{
			name:     "field without property",
			rpc:      "groundcam.v1.CreditService.GetCredits",
			fragment: creditsFragment,
			edit:     [2]string{"            quota: {type: integer}\n", ""},
			want:     []string{`field groundcam.v1.SubscriptionCredits.quota has no property "quota"`},
		},
		{
			name:     "required property behind optional field",
			rpc:      "groundcam.v1.CreditService.GetCredits",
			fragment: creditsFragment,
			edit:     [2]string{"nullable: true}\n", "nullable: true}\n          required: [quota]\n"},
			want:     []string{"response data.subscription.quota: required"},
		},
		{
			name:     "nullable property without nullable field",
			rpc:      "groundcam.v1.CreditService.GetCredits",
			fragment: creditsFragment,
			edit:     [2]string{"available: {type: integer}", "available: {type: integer, nullable: true}"},
			want:     []string{"response data.available: nullable"},
		},
		{
			name:     "other path",
			rpc:      "groundcam.v1.CreditService.GetCredits",
			fragment: creditsFragment,
			edit:     [2]string{"/credits:", "/credit-balance:"},
			want:     []string{"route: http.yaml has GET /v1/credits, the contract has GET /v1/credit-balance"},
		},
		{
			name:     "other success status",
			rpc:      "groundcam.v1.CreditService.GetCredits",
			fragment: creditsFragment,
			edit:     [2]string{`"200":`, `"201":`},
			want:     []string{"success_status is 0, want 201"},
		},
		{
			name:     "screenshots match",
			rpc:      "groundcam.v1.SessionService.GetSessionScreenshots",
			fragment: screenshotsFragment,
		},
		{
			name:     "missing query parameter",
			rpc:      "groundcam.v1.SessionService.GetSessionScreenshots",
			fragment: screenshotsFragment,
			edit: [2]string{
				"- {name: url_ttl,",
				"- {name: format, in: query, schema: {type: string}}\n        - {name: url_ttl,",
			},
			want: []string{`query parameter "format": no field`},
		},
		{
			name:     "query parameter under another JSON name",
			rpc:      "groundcam.v1.SessionService.GetSessionScreenshots",
			fragment: screenshotsFragment,
			edit:     [2]string{"name: url_ttl", "name: urlTtl"},
			want: []string{
				`query parameter "urlTtl": no field of groundcam.v1.GetSessionScreenshotsRequest`,
				"field groundcam.v1.GetSessionScreenshotsRequest.url_ttl is no parameter",
			},
		},
		{
			name:     "missing header parameter",
			rpc:      "groundcam.v1.SessionService.GetSessionScreenshots",
			fragment: screenshotsFragment,
			edit: [2]string{
				"- {name: url_ttl,",
				"- {name: X-Trace, in: header, schema: {type: string}}\n        - {name: url_ttl,",
			},
			want: []string{`header parameter "X-Trace": no field`},
		},
		{
			name:     "missing array item property",
			rpc:      "groundcam.v1.SessionService.GetSessionScreenshots",
			fragment: screenshotsFragment,
			edit: [2]string{
				"url: {type: string}",
				"url: {type: string}\n                            width: {type: integer}",
			},
			want: []string{`response data.screenshots[]: property "width" has no field`},
		},
		{
			name:     "enum value without wire value",
			rpc:      "groundcam.v1.StatisticsService.GetStats",
			fragment: statsFragment,
			want:     []string{`enum groundcam.v1.StatsPeriod has no value with (wire_value) = "year"`},
		},
		{
			name:     "end session matches",
			rpc:      "groundcam.v1.SessionService.EndSession",
			fragment: endSessionFragment,
		},
		{
			name:     "missing body property",
			rpc:      "groundcam.v1.SessionService.EndSession",
			fragment: endSessionFragment,
			edit: [2]string{
				"notes: {type: string, nullable: true}",
				"notes: {type: string, nullable: true}\n                rating: {type: integer}",
			},
			want: []string{`request body: property "rating" has no field`},
		},
		{
			name:     "nullable body property without wrapper",
			rpc:      "groundcam.v1.SessionService.EndSession",
			fragment: endSessionFragment,
			edit: [2]string{
				"agentDuration: {type: number}",
				"agentDuration: {type: number, nullable: true}",
			},
			want: []string{"request body.agentDuration: nullable, so field"},
		},
		{
			name:     "body property of another type",
			rpc:      "groundcam.v1.SessionService.EndSession",
			fragment: endSessionFragment,
			edit: [2]string{
				"clientDuration: {type: number}",
				"clientDuration: {type: string, format: date-time}",
			},
			want: []string{"request body.clientDuration: date-time field"},
		},
		{
			name:     "operation without body",
			rpc:      "groundcam.v1.SessionService.EndSession",
			fragment: endSessionFragment,
			edit:     [2]string{"requestBody:", "ignoredBody:"},
			want:     []string{`http.yaml sets body "*" but the operation takes no body`},
		},
	}
	rules := rulesBySelector(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fragment := tt.fragment
			if tt.edit[0] != "" {
				if !strings.Contains(fragment, tt.edit[0]) {
					t.Fatalf("fragment has no %q to edit", tt.edit[0])
				}
				fragment = strings.Replace(fragment, tt.edit[0], tt.edit[1], 1)
			}
			problems := checkFragment(t, fragment, tt.rpc, rules)

			if len(tt.want) == 0 && len(problems) > 0 {
				t.Errorf("problems = %q, want none", problems)
			}
			for _, want := range tt.want {
				if !containsSubstring(problems, want) {
					t.Errorf("problems = %q, want one containing %q", problems, want)
				}
			}
		})
	}
}

// checkFragment runs the checker on the only operation of a contract
// fragment against the RPC named rpc.
func checkFragment(
	t *testing.T,
	fragment string,
	rpc protoreflect.FullName,
	rules map[string]httpRule,
) []string {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(fragment), &doc); err != nil {
		t.Fatalf("parse fragment: %v", err)
	}
	ops, err := contractOperations(doc)
	if err != nil || len(ops) != 1 {
		t.Fatalf("fragment operations = %d, %v; want exactly 1", len(ops), err)
	}
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(rpc)
	if err != nil {
		t.Fatalf("find %s: %v", rpc, err)
	}
	return checkOperation(doc, ops[0], desc.(protoreflect.MethodDescriptor), rules[string(rpc)])
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
