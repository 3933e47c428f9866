package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// goBench holds the results of the in-process benchmarks, read from the
// text output of one or more go test -bench runs.
type goBench struct {
	// values holds each benchmark's values by unit, one per run. Names have
	// no "Benchmark" prefix and no -GOMAXPROCS suffix, as in
	// "Ladder/small/L2-hit/connect-proto".
	values map[string]map[string][]float64
}

// readGoBench parses go test -bench output from path.
func readGoBench(path string) (*goBench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	defer f.Close()
	return parseGoBench(f)
}

func parseGoBench(r io.Reader) (*goBench, error) {
	g := &goBench{values: make(map[string]map[string][]float64)}
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := benchName(fields[0])
		if g.values[name] == nil {
			g.values[name] = make(map[string][]float64)
		}
		// After the iteration count come value and unit pairs.
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			g.values[name][fields[i+1]] = append(g.values[name][fields[i+1]], v)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return g, nil
}

// benchName strips the "Benchmark" prefix and the -GOMAXPROCS suffix.
func benchName(full string) string {
	name := strings.TrimPrefix(full, "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	return name
}

// median returns the median value of a benchmark in unit, and false when
// it has none.
func (g *goBench) median(name, unit string) (float64, bool) {
	if g == nil {
		return 0, false
	}
	values := g.values[name][unit]
	if len(values) == 0 {
		return 0, false
	}
	return median(values), true
}
