package transport

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// jumpHost returns the connection to the last hop of a ProxyJump chain,
// sharing each hop's connection among every host behind it.
func (p *Pool) jumpHost(ctx context.Context, spec string) (*sshHost, error) {
	hops := strings.Split(spec, ",")
	var via *sshHost
	for i := range hops {
		key := strings.Join(hops[:i+1], ",")
		hop, err := p.jumpHop(ctx, key, strings.TrimSpace(hops[i]), via)
		if err != nil {
			return nil, err
		}
		via = hop
	}
	return via, nil
}

func (p *Pool) jumpHop(ctx context.Context, key, hop string, via *sshHost) (*sshHost, error) {
	return p.shared(ctx, true, key, hop, func() (*sshHost, error) { return p.dialHop(ctx, hop, via) })
}

func (p *Pool) dialHop(ctx context.Context, hop string, via *sshHost) (*sshHost, error) {
	userName, hostPort := "", hop
	if i := strings.LastIndex(hop, "@"); i >= 0 {
		userName, hostPort = hop[:i], hop[i+1:]
	}
	host, port := hostPort, 0
	if h, ps, err := net.SplitHostPort(hostPort); err == nil {
		n, err := strconv.Atoi(ps)
		if err != nil {
			return nil, fmt.Errorf("bad port in ProxyJump %q", hop)
		}
		host, port = h, n
	}
	ep, err := p.resolveAlias(host, userName, port)
	if err != nil {
		return nil, err
	}
	client, err := p.connect(ctx, ep, via)
	if err != nil {
		return nil, fmt.Errorf("jump host %s: %w", hop, err)
	}
	p.cfg.logf("connected to jump host %s@%s", ep.user, ep.addr)
	return newSSHHost(hop, ep.user, "", client, p.cfg), nil
}
