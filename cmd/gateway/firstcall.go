package main

import (
	"fmt"
	"io"
	"net"
)

// printFirstCalls prints ready-to-paste calls of AgentService.ListAgents
// for a gateway on the embedded simulator. None needs a key: the gateway
// adds the simulator's demo key to calls without one. buf curl and grpcurl
// read the schema through server reflection.
func printFirstCalls(w io.Writer, api net.Addr, organization string) {
	addr := dialable(api)
	base := "http://" + addr
	fmt.Fprintf(w, `
The gateway is serving the embedded GroundCam simulator (demo organization %q).
Try a first call, for example listing the agents:

  .bin/buf curl --protocol connect --http2-prior-knowledge %s/groundcam.v1.AgentService/ListAgents
  grpcurl -plaintext %s groundcam.v1.AgentService/ListAgents
  curl %s/v1/agents
  curl -H 'Content-Type: application/json' -d '{}' %s/groundcam.v1.AgentService/ListAgents

.bin/buf appears after scripts/generate or scripts/test; grpcurl is not
installed by this repository. Stop the gateway with Ctrl-C.

`, organization, base, addr, base, base)
}

// dialable returns a host:port that a local client can connect to: an
// unspecified host such as 0.0.0.0 becomes 127.0.0.1.
func dialable(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	host := tcp.IP.String()
	switch {
	case tcp.IP.IsUnspecified():
		host = "127.0.0.1"
	case tcp.IP.To4() == nil:
		host = "[" + host + "]"
	}
	return fmt.Sprintf("%s:%d", host, tcp.Port)
}
