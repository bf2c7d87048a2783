package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const (
	nicID    = 1
	nListen  = 8       // listeners on the server, ports 8000..8007 (as the C peers)
	nCliAddr = 64      // client addresses 10.1.0.1..10.1.0.64: 64 x 49,536 ephemeral ports
	queueLen = 1 << 18 // packets a channel endpoint holds before it drops
	reqLen   = 64
)

var serverAddr = tcpip.Address("\x0a\x02\x00\x01")

func cliAddr(i int) tcpip.Address {
	return tcpip.Address([]byte{10, 1, byte((i + 1) >> 8), byte(i + 1)})
}

// settings says what the stacks run with, for the notes.
const settings = "gVisor TCP defaults (RACK, Reno, 1 MB buffers) + SACK, receive-buffer " +
	"moderation, TIME_WAIT reuse"

func newStack() *stack.Stack {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	sack := tcpip.TCPSACKEnabled(true)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	reuse := tcpip.TCPTimeWaitReuseGlobal
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &mod, &reuse} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			fatalf("transport option %T: %v", o, err)
		}
	}
	return s
}

func addAddr(s *stack.Stack, a tcpip.Address, prefix int) {
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: a, PrefixLen: prefix},
	}
	if err := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
		fatalf("address %v: %v", a, err)
	}
}

// pair is two stacks wired in memory.
type pair struct {
	cli, srv     *stack.Stack
	cliEP, srvEP *channel.Endpoint
	cancel       context.CancelFunc
	done         sync.WaitGroup
}

// forward moves what from queued into to, until the context ends.
func forward(ctx context.Context, from, to *channel.Endpoint, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		pkt := from.ReadContext(ctx)
		if pkt.IsNil() {
			return
		}
		// A fresh packet from the bytes, as a wire would (link/pipe does
		// the same): the sender keeps its own for retransmission.
		in := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: pkt.ToBuffer()})
		pkt.DecRef()
		to.InjectInbound(ipv4.ProtocolNumber, in)
		in.DecRef()
	}
}

func newPair() *pair {
	p := &pair{cli: newStack(), srv: newStack()}
	p.cliEP = channel.New(queueLen, 1500, "")
	p.srvEP = channel.New(queueLen, 1500, "")
	if err := p.cli.CreateNIC(nicID, p.cliEP); err != nil {
		fatalf("client NIC: %v", err)
	}
	if err := p.srv.CreateNIC(nicID, p.srvEP); err != nil {
		fatalf("server NIC: %v", err)
	}
	for i := 0; i < nCliAddr; i++ {
		addAddr(p.cli, cliAddr(i), 16)
	}
	addAddr(p.srv, serverAddr, 16)
	all, _ := tcpip.NewSubnet("\x00\x00\x00\x00", "\x00\x00\x00\x00")
	p.cli.SetRouteTable([]tcpip.Route{{Destination: all, NIC: nicID}})
	p.srv.SetRouteTable([]tcpip.Route{{Destination: all, NIC: nicID}})
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.done.Add(2)
	go forward(ctx, p.cliEP, p.srvEP, &p.done)
	go forward(ctx, p.srvEP, p.cliEP, &p.done)
	return p
}

func (p *pair) close() {
	p.cancel()
	p.done.Wait()
	p.cli.Close()
	p.srv.Close()
	p.cli.Wait()
	p.srv.Wait()
}

// segments is the TCP segments both stacks received.
func (p *pair) segments() uint64 {
	return p.cli.Stats().TCP.ValidSegmentsReceived.Value() +
		p.srv.Stats().TCP.ValidSegmentsReceived.Value()
}

// drops is the packets the channel endpoints refused (queue full) and the
// segments the stacks retransmitted.
func (p *pair) drops() (dropped, retrans uint64) {
	for _, s := range []*stack.Stack{p.cli, p.srv} {
		dropped += s.Stats().NICs.TxPacketsDroppedNoBufferSpace.Value()
		retrans += s.Stats().TCP.Retransmits.Value()
	}
	return
}

// ------------------------------------------------------------------
// The event loop: gVisor calls waiter callbacks from its own goroutines;
// each pushes the connection's id once (until the loop takes it) and wakes
// the loop.

type events struct {
	mu   sync.Mutex
	ids  []int32
	wake chan struct{}
}

func newEvents() *events {
	return &events{wake: make(chan struct{}, 1)}
}

// flagged is one connection's "already queued" flag.
type flagged struct{ queued atomic.Uint32 }

func (ev *events) push(f *flagged, id int32) {
	if !f.queued.CompareAndSwap(0, 1) {
		return
	}
	ev.mu.Lock()
	ev.ids = append(ev.ids, id)
	ev.mu.Unlock()
	select {
	case ev.wake <- struct{}{}:
	default:
	}
}

// take returns the queued ids (swapping buf in), waiting up to d for one.
func (ev *events) take(buf []int32, d time.Duration) []int32 {
	var timer *time.Timer
	for {
		ev.mu.Lock()
		if len(ev.ids) > 0 {
			r := ev.ids
			ev.ids = buf[:0]
			ev.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return r
		}
		ev.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(d)
		}
		select {
		case <-ev.wake:
		case <-timer.C:
			return buf[:0]
		}
	}
}

// entry is a waiter entry whose events push id.
func (ev *events) entry(f *flagged, id int32) waiter.Entry {
	return waiter.NewFunctionEntry(waiter.EventIn|waiter.EventOut|waiter.EventHUp|waiter.EventErr,
		func(waiter.EventMask) { ev.push(f, id) })
}

// endpoint creates a TCP endpoint on s whose events push id.
func (ev *events) endpoint(s *stack.Stack, f *flagged, id int32) (tcpip.Endpoint, *waiter.Queue) {
	wq := new(waiter.Queue)
	e := ev.entry(f, id)
	wq.EventRegister(&e)
	ep, err := s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, wq)
	if err != nil {
		fatalf("endpoint: %v", err)
	}
	return ep, wq
}
