package contracttest

import (
	"errors"
	"io/fs"
	"os"
	"testing"

	"sigs.k8s.io/yaml"
)

// Document parses the contract into the plain values that encoding/json
// decodes: maps, slices, strings, float64 numbers, bools and nil. It reads
// the file at the location that the package documentation gives, and parses
// it again on every call, so callers may change what it returns. It skips t
// when the file does not exist, and fails t when there is no repository
// root or the file cannot be read or parsed.
func Document(t testing.TB) map[string]any {
	t.Helper()
	path, err := locateContract()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("upstream contract %s not found: set %s to the path of groundcam-openapi.yaml",
			path, EnvContract)
	}
	if err != nil {
		t.Fatalf("read upstream contract: %v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parse upstream contract %s: %v", path, err)
	}
	return doc
}

// Available reports whether the contract file exists, so that a fuzz test
// can add the contract's examples to its seeds when it does and still run
// without them when it does not.
func Available() bool {
	_, err := contractPath()
	return err == nil
}
