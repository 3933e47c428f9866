package bench

import (
	"fmt"
	"strings"
)

// Case is one measurement of the ladder: a rung called over one protocol
// with one size.
type Case struct {
	Rung     Rung
	Protocol Protocol
	Size     *Size
}

// Name returns the case's name, such as "small/L2-hit/connect-proto", the
// sub-benchmark name of the in-process benchmarks.
func (c Case) Name() string {
	return c.Size.Name + "/" + string(c.Rung) + "/" + string(c.Protocol)
}

// rungProtocols lists the protocols each rung is called with.
var rungProtocols = map[Rung][]Protocol{
	RungRaw:      {ProtocolRaw},
	RungBare:     {ProtocolConnect, ProtocolConnectJSON, ProtocolGRPC},
	RungHit:      {ProtocolConnect, ProtocolConnectJSON, ProtocolGRPC},
	RungTraced:   {ProtocolConnect, ProtocolConnectJSON, ProtocolGRPC},
	RungMiss:     {ProtocolConnect},
	RungProxy:    {ProtocolREST},
	RungDirect:   {ProtocolREST},
	RungREST:     {ProtocolREST},
	RungVanguard: {ProtocolREST},
}

// Ladder returns every case, size by size, in rung order.
func Ladder(sizes []*Size) []Case {
	var cases []Case
	for _, size := range sizes {
		for _, rung := range Rungs() {
			for _, protocol := range rungProtocols[rung] {
				cases = append(cases, Case{Rung: rung, Protocol: protocol, Size: size})
			}
		}
	}
	return cases
}

// FindCase returns the case named like [Case.Name].
func FindCase(sizes []*Size, name string) (Case, error) {
	var names []string
	for _, c := range Ladder(sizes) {
		if c.Name() == name {
			return c, nil
		}
		names = append(names, c.Name())
	}
	return Case{}, fmt.Errorf("unknown case %q: use one of %s", name, strings.Join(names, ", "))
}
