package contracttest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// contract is a parsed contract with its validator and operation table.
type contract struct {
	validator validator.Validator
	basePath  string // the path of the first server URL, "/v1"; "" when none
	ops       []operation
}

// operation is one method of one path template.
type operation struct {
	id       string
	method   string   // upper case
	template string   // as in the contract, "/sessions/{id}"
	segments []string // template split at "/"
	statuses map[string]bool
	fallback bool // a "default" response exists
}

// cacheEntry parses one contract file once.
type cacheEntry struct {
	once     sync.Once
	contract *contract
	err      error
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*cacheEntry{}
)

// loadCached parses the contract at path on first use and returns the same
// result afterwards.
func loadCached(path string) (*contract, error) {
	cacheMu.Lock()
	entry, ok := cache[path]
	if !ok {
		entry = &cacheEntry{}
		cache[path] = entry
	}
	cacheMu.Unlock()

	entry.once.Do(func() {
		spec, err := os.ReadFile(path)
		if err != nil {
			entry.err = err
			return
		}
		entry.contract, entry.err = parseContract(spec)
	})
	return entry.contract, entry.err
}

// contractPath locates the contract file and checks that it exists; see
// ContractPath.
func contractPath() (string, error) {
	path, err := locateContract()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(EnvContract) != "" {
			return "", fmt.Errorf("%s=%s: %w", EnvContract, path, err)
		}
		return "", fmt.Errorf("%s is not set and %s does not exist", EnvContract, path)
	}
	return path, nil
}

// locateContract returns the contract's location as the package
// documentation gives it, without checking that the file exists.
func locateContract() (string, error) {
	if path := os.Getenv(EnvContract); path != "" {
		return path, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "..", "shared", "upstream", "groundcam-openapi.yaml"), nil
}

// repoRoot returns the nearest directory at or above the working directory
// that contains a go.mod file.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// parseContract rewrites nullable schemas, then builds the model, the
// validator and the operation table.
func parseContract(spec []byte) (*contract, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(spec, &root); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	rewriteNullable(&root)
	spec, err := yaml.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("encode rewritten contract: %w", err)
	}

	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("build OpenAPI model: %w", err)
	}

	c := &contract{
		validator: validator.NewValidatorFromV3Model(&model.Model),
		basePath:  basePath(&model.Model),
		ops:       operations(&model.Model),
	}
	if len(c.ops) == 0 {
		return nil, errors.New("the document declares no operations")
	}
	return c, nil
}

// basePath returns the path of the first server URL without its trailing
// slash, for example "/v1" for https://api.groundcam.io/v1.
func basePath(model *v3.Document) string {
	if len(model.Servers) == 0 {
		return ""
	}
	u, err := url.Parse(model.Servers[0].URL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// operations lists every operation of the model in document order.
func operations(model *v3.Document) []operation {
	if model.Paths == nil || model.Paths.PathItems == nil {
		return nil
	}
	var ops []operation
	for template, item := range model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			entry := operation{
				id:       op.OperationId,
				method:   strings.ToUpper(method),
				template: template,
				segments: strings.Split(strings.Trim(template, "/"), "/"),
				statuses: map[string]bool{},
			}
			if op.Responses != nil {
				entry.fallback = op.Responses.Default != nil
				if op.Responses.Codes != nil {
					for code := range op.Responses.Codes.KeysFromOldest() {
						entry.statuses[code] = true
					}
				}
			}
			ops = append(ops, entry)
		}
	}
	return ops
}
