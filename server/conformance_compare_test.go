package server

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// diffBodies compares two JSON bodies after normalizing ids and timestamps
// with each run's normalizer, and returns one line per difference, named by
// its JSON path.
func diffBodies(want, got []byte, wantNorm, gotNorm *normalizer) []string {
	var w, g any
	werr, gerr := json.Unmarshal(want, &w), json.Unmarshal(got, &g)
	switch {
	case werr != nil && gerr != nil:
		if string(want) != string(got) {
			return []string{fmt.Sprintf("body (not JSON): simulator %q, gateway %q", want, got)}
		}
		return nil
	case werr != nil:
		return []string{fmt.Sprintf("body: the simulator's is not JSON (%v), the gateway's is", werr)}
	case gerr != nil:
		return []string{fmt.Sprintf("body: the gateway's is not JSON (%v), the simulator's is", gerr)}
	}
	var diffs []string
	diffJSON("$", wantNorm.normalize(w), gotNorm.normalize(g), &diffs)
	return diffs
}

// diffJSON appends the differences between two JSON values at path.
func diffJSON(path string, want, got any, diffs *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: simulator %s, gateway %s", path, show(want), show(got)))
			return
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, seen := w[k]; !seen {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: simulator %s, gateway leaves it out", path, k, show(wv)))
			case !inW:
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: simulator leaves it out, gateway %s", path, k, show(gv)))
			default:
				diffJSON(path+"."+k, wv, gv, diffs)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: simulator %s, gateway %s", path, show(want), show(got)))
			return
		}
		for i := range w {
			diffJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], diffs)
		}
	default:
		if !jsonEqual(want, got) {
			*diffs = append(*diffs, fmt.Sprintf("%s: simulator %s, gateway %s", path, show(want), show(got)))
		}
	}
}

func jsonEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}

// show returns a short JSON rendering of v for a diff line.
func show(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		return string(b[:117]) + "..."
	}
	return string(b)
}

// idKeys are the JSON keys whose string values are generated ids, tokens
// or URLs that carry them.
var idKeys = map[string]bool{
	"id": true, "nextCursor": true, "secret": true, "key": true, "prefix": true,
	"clientUrl": true, "agentUrl": true, "authUrl": true, "url": true,
}

// timestampPattern matches the RFC 3339 timestamps that bodies carry.
var timestampPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

// digitPattern matches one digit, for the layout of a timestamp.
var digitPattern = regexp.MustCompile(`\d`)

// normalizer replaces the ids and timestamps of one run's bodies by
// placeholders numbered in order of first appearance over the whole run.
// Two runs that generate different values but use them consistently then
// compare equal, while a value used in the wrong place still differs.
type normalizer struct {
	ids   map[string]string
	times map[string]string
}

func newNormalizer() *normalizer {
	return &normalizer{ids: map[string]string{}, times: map[string]string{}}
}

// normalize returns the next body of the run with ids and timestamps
// replaced.
func (n *normalizer) normalize(v any) any {
	n.collect("", v)
	return n.replace(v)
}

// collect numbers the id values of v in order of appearance.
func (n *normalizer) collect(key string, v any) {
	switch node := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(node))
		for k := range node {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			n.collect(k, node[k])
		}
	case []any:
		for _, item := range node {
			n.collect(key, item)
		}
	case string:
		if timestampPattern.MatchString(node) {
			key := timestampKey(node)
			if _, ok := n.times[key]; !ok {
				n.times[key] = fmt.Sprintf("time#%d", len(n.times)+1)
			}
			return
		}
		if isIDKey(key) && node != "" {
			if _, ok := n.ids[node]; !ok {
				n.ids[node] = fmt.Sprintf("id#%d", len(n.ids)+1)
			}
		}
	}
}

// timestampKey returns the instant of a timestamp in one layout, so that
// equal instants written differently share a placeholder.
func timestampKey(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func isIDKey(key string) bool {
	return idKeys[key] || strings.HasSuffix(key, "Id")
}

// replace returns v with known ids replaced wherever they occur, also
// inside other strings such as error messages, and timestamps replaced by
// placeholders that keep their layout.
func (n *normalizer) replace(v any) any {
	switch node := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(node))
		for k, item := range node {
			out[k] = n.replace(item)
		}
		return out
	case []any:
		out := make([]any, len(node))
		for i, item := range node {
			out[i] = n.replace(item)
		}
		return out
	case string:
		if timestampPattern.MatchString(node) {
			return n.timestamp(node)
		}
		if id, ok := n.ids[node]; ok {
			return id
		}
		return n.replaceInside(node)
	}
	return v
}

// timestamp returns the placeholder of a timestamp: its number in order of
// first appearance and its layout, such as "time#2 dddd-dd-ddTdd:dd:dd.dddZ",
// so that a change of format is still a difference.
func (n *normalizer) timestamp(s string) string {
	return n.times[timestampKey(s)] + " " + digitPattern.ReplaceAllString(s, "d")
}

// replaceInside replaces the known ids that occur inside s, longest first.
func (n *normalizer) replaceInside(s string) string {
	ids := make([]string, 0, len(n.ids))
	for id := range n.ids {
		if len(id) >= 6 && strings.Contains(s, id) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return len(b) - len(a) })
	for _, id := range ids {
		s = strings.ReplaceAll(s, id, n.ids[id])
	}
	return s
}

func TestConformanceDiffBodies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		want, got string
		diffs     int
	}{
		{"equal", `{"data":{"a":1,"b":[true,null]}}`, `{"data":{"b":[true,null],"a":1}}`, 0},
		{"other ids used consistently", `{"data":{"id":"abc123","ref":"see abc123"}}`,
			`{"data":{"id":"xyz789","ref":"see xyz789"}}`, 0},
		{"other timestamps in the same layout", `{"t":"2026-03-12T15:30:00.000Z"}`, `{"t":"2026-03-13T15:30:00.000Z"}`, 0},
		{"timestamp layout changed", `{"t":"2026-03-12T15:30:00.000Z"}`, `{"t":"2026-03-12T15:30:00Z"}`, 1},
		{"null and absent", `{"data":{"a":null}}`, `{"data":{}}`, 1},
		{"number and string", `{"n":1}`, `{"n":"1"}`, 1},
		{"list length", `{"l":[1,2]}`, `{"l":[1]}`, 1},
		{"extra member", `{"a":1}`, `{"a":1,"b":2}`, 1},
		{"ids swapped", `{"l":[{"id":"first1"},{"id":"second"},{"ref":"first1"}]}`,
			`{"l":[{"id":"first1"},{"id":"second"},{"ref":"second"}]}`, 1},
	}
	for _, c := range cases {
		got := diffBodies([]byte(c.want), []byte(c.got), newNormalizer(), newNormalizer())
		if len(got) != c.diffs {
			t.Errorf("%s: %d differences %q, want %d", c.name, len(got), got, c.diffs)
		}
	}
}
