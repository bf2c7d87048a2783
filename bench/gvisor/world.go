package main

import (
	"bytes"
	"fmt"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// The connections the loop knows, by id: clients first (fixed ids), then
// the listeners, then the server's accepted connections (ids reused).
const (
	kindClient = iota
	kindListener
	kindServer
)

const (
	stIdle = iota
	stConnecting
	stSent        // lifecycle: the request is out, the echo not all back
	stEstablished // memory, scale: open and idle
	stClosed
)

type conn struct {
	flagged
	kind  int8
	state int8
	got   int
	ep    tcpip.Endpoint
	wq    *waiter.Queue
	entry waiter.Entry
}

type world struct {
	p     *pair
	ev    *events
	conns []*conn
	free  []int32
	nCli  int
	buf   [65536]byte
	ids   []int32
	rr    int

	echo       bool // the server echoes what it reads (else it discards)
	reopen     bool // lifecycle: a finished client opens the next connection
	bindAll    bool // clients bind one of the nCliAddr addresses
	done       uint64
	accepted   uint64
	srvBytes   uint64
	cliBytes   uint64
	srvLive    int
	unopened   int // lifecycle: slots not opened yet (from the top)
	connecting int // connections in their handshake
	estab      int
	err        error
}

// request is the C peers' 64 bytes: the text, zero-padded.
var request = func() []byte {
	b := make([]byte, reqLen)
	copy(b, "synack-bench lifecycle request, 64 bytes long, echoed back!!!!")
	return b
}()

func newWorld(nCli int) *world {
	w := &world{p: newPair(), ev: newEvents(), nCli: nCli, echo: true}
	for i := 0; i < nCli; i++ {
		w.conns = append(w.conns, &conn{kind: kindClient})
	}
	for i := 0; i < nListen; i++ {
		id := int32(len(w.conns))
		c := &conn{kind: kindListener}
		w.conns = append(w.conns, c)
		c.ep, c.wq = w.ev.endpoint(w.p.srv, &c.flagged, id)
		addr := tcpip.FullAddress{NIC: nicID, Addr: serverAddr, Port: uint16(8000 + i)}
		if err := c.ep.Bind(addr); err != nil {
			fatalf("bind %d: %v", addr.Port, err)
		}
		// A backlog for a whole run's handshakes at once (c100000 opens
		// 100,000 before the loop accepts any).
		if err := c.ep.Listen(1 << 16); err != nil {
			fatalf("listen: %v", err)
		}
	}
	return w
}

func (w *world) close() {
	for _, c := range w.conns {
		if c.ep != nil {
			c.ep.Abort()
		}
	}
	w.p.close()
}

func (w *world) fail(format string, args ...interface{}) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

// open starts client i's connection to the next listener.
func (w *world) open(i int) {
	c := w.conns[i]
	ep, wq := w.ev.endpoint(w.p.cli, &c.flagged, int32(i))
	c.ep, c.wq, c.got, c.state = ep, wq, 0, stConnecting
	w.connecting++
	if w.bindAll {
		// One of 64 addresses: the ephemeral ports of one would not do
		// for a million connections.
		if err := ep.Bind(tcpip.FullAddress{NIC: nicID, Addr: cliAddr(i % nCliAddr)}); err != nil {
			w.fail("client bind: %v", err)
			return
		}
	}
	w.rr++
	addr := tcpip.FullAddress{NIC: nicID, Addr: serverAddr, Port: uint16(8000 + w.rr%nListen)}
	switch err := ep.Connect(addr); err.(type) {
	case nil, *tcpip.ErrConnectStarted:
	default:
		w.fail("client connect: %v", err)
	}
}

// openMore opens slots not opened yet while fewer than 1,024 connections
// are in their handshake.
func (w *world) openMore() {
	for w.unopened > 0 && w.connecting < 1024 {
		w.unopened--
		w.open(w.unopened)
	}
}

// read reads what c has into the buffer: bytes, or -1 at EOF or on an
// error, 0 when there is nothing now.
func (w *world) read(c *conn) int {
	sw := tcpip.SliceWriter(w.buf[:])
	res, err := c.ep.Read(&sw, tcpip.ReadOptions{})
	if err == nil {
		return res.Count
	}
	if _, ok := err.(*tcpip.ErrWouldBlock); ok {
		return 0
	}
	return -1
}

func (w *world) write(c *conn, b []byte) bool {
	var r bytes.Reader
	r.Reset(b)
	n, err := c.ep.Write(&r, tcpip.WriteOptions{})
	if err != nil || int(n) != len(b) {
		w.fail("write %d of %d: %v", n, len(b), err)
		return false
	}
	return true
}

func (w *world) handle(id int32) {
	c := w.conns[id]
	c.queued.Store(0)
	switch c.kind {
	case kindListener:
		w.accept(c)
	case kindServer:
		w.serve(id, c)
	default:
		w.client(id, c)
	}
}

func (w *world) accept(l *conn) {
	for {
		ep, wq, err := l.ep.Accept(nil)
		if err != nil {
			return
		}
		var id int32
		if n := len(w.free); n > 0 {
			id = w.free[n-1]
			w.free = w.free[:n-1]
		} else {
			id = int32(len(w.conns))
			w.conns = append(w.conns, &conn{kind: kindServer})
		}
		c := w.conns[id]
		c.ep, c.wq, c.state = ep, wq, stEstablished
		c.entry = w.ev.entry(&c.flagged, id)
		wq.EventRegister(&c.entry)
		w.accepted++
		w.srvLive++
		w.serve(id, c)
	}
}

// serve: echo what arrived, close on EOF.
func (w *world) serve(id int32, c *conn) {
	if c.ep == nil {
		return
	}
	for {
		n := w.read(c)
		if n == 0 {
			return
		}
		if n < 0 {
			c.wq.EventUnregister(&c.entry)
			c.ep.Close()
			c.ep, c.wq, c.state = nil, nil, stClosed
			w.free = append(w.free, id)
			w.srvLive--
			return
		}
		w.srvBytes += uint64(n)
		if w.echo && !w.write(c, w.buf[:n]) {
			return
		}
	}
}

func (w *world) client(id int32, c *conn) {
	if c.state == stConnecting {
		switch tcp.EndpointState(c.ep.State()) {
		case tcp.StateEstablished:
		case tcp.StateConnecting, tcp.StateSynSent:
			return
		default:
			w.fail("client connect: state %v, %v", tcp.EndpointState(c.ep.State()), c.ep.LastError())
			return
		}
		w.connecting--
		if !w.reopen {
			c.state = stEstablished
			w.estab++
			return
		}
		if !w.write(c, request) {
			return
		}
		c.state = stSent
		w.openMore()
	}
	if c.state != stSent && c.state != stEstablished {
		return
	}
	for {
		n := w.read(c)
		if n == 0 {
			return
		}
		if n < 0 {
			w.fail("client read: EOF or error after %d bytes", c.got)
			return
		}
		c.got += n
		w.cliBytes += uint64(n)
		if c.state == stSent && c.got >= reqLen {
			// The client closes first (and keeps TIME_WAIT).
			c.ep.Close()
			c.ep, c.state = nil, stIdle
			w.done++
			if w.reopen {
				w.open(int(id))
			}
			return
		}
	}
}

// step handles what is queued, waiting up to d for it; false when nothing
// came in d.
func (w *world) step(d time.Duration) bool {
	w.ids = w.ev.take(w.ids, d)
	for _, id := range w.ids {
		w.handle(id)
	}
	return len(w.ids) > 0
}

// until steps until cond holds, an error, or quiet for 5 s of wall time.
func (w *world) until(what string, cond func() bool) {
	quiet := time.Now()
	for !cond() && w.err == nil {
		if w.step(50 * time.Millisecond) {
			quiet = time.Now()
		} else if time.Since(quiet) > 5*time.Second {
			w.fail("%s: nothing happened for 5 s", what)
		}
	}
}

// ------------------------------------------------------------------
// Lifecycle: connect, 64-byte request, echo, close; `inflight` at once.

func lifecycleRun(inflight int, budget float64) (rate, cpuUs float64, err error) {
	w := newWorld(inflight)
	defer w.close()
	w.reopen, w.bindAll = true, true
	limit := int64(budget * 1e9)
	// Every slot done once, or 20 budgets; with many in flight at least
	// the time to open them all at 2,000 a second.
	hard := 20 * limit
	if open := int64(inflight) * 500000; open > hard {
		hard = open
	}
	w0, c0 := wallNs(), cpuNs()
	// At most 1,024 handshakes at a time while the slots fill: opening
	// 100,000 at once makes gVisor's 1 s SYN timer fire before it has
	// answered them all, and the retransmitted SYNs pile on.
	w.unopened = inflight
	w.openMore()
	quiet := w0
	for w.err == nil {
		now := wallNs()
		if w.step(50 * time.Millisecond) {
			quiet = now
		} else if now-quiet > 5e9 {
			w.fail("nothing happened for 5 s after %d lifecycles", w.done)
		}
		el := wallNs() - w0
		if (el >= limit && w.done >= uint64(inflight)) || el >= hard {
			break
		}
	}
	wall, cpu := wallNs()-w0, cpuNs()-c0
	if w.err != nil {
		return 0, 0, w.err
	}
	if w.done == 0 {
		return 0, 0, fmt.Errorf("no lifecycle completed")
	}
	return float64(w.done) / (float64(wall) / 1e9), float64(cpu) / 1e3 / float64(w.done), nil
}

func benchLifecycle() {
	variant := fmt.Sprintf("c%d", opt.inflight)
	var rate, cpu []float64
	for r := 0; r < opt.reps; r++ {
		a, b, err := lifecycleRun(opt.inflight, opt.budget)
		if err != nil {
			skip("lifecycle", variant, "lifecycles_per_s", "failed: %v", err)
			return
		}
		logf("lifecycle %s: %.0f/s, %.2f us CPU each", variant, a, b)
		rate, cpu = append(rate, a), append(cpu, b)
	}
	add("lifecycle", variant, "lifecycles_per_s", median(rate),
		"%s; GOMAXPROCS %d; CPU of the whole process (Go runtime and GC included)",
		settings, opt.procs)
	add("lifecycle", variant, "cpu_us_per_lifecycle", median(cpu), "")
}

// ------------------------------------------------------------------
// Bulk: one connection, MSS 1460, the client writes, the server reads.

func bulkRun(total uint64) (gbit, cpuSGB float64, retrans uint64, err error) {
	w := newWorld(1)
	defer w.close()
	w.echo = false
	w.open(0)
	w.until("bulk connect", func() bool { return w.estab == 1 && w.accepted == 1 })
	if w.err != nil {
		return 0, 0, 0, w.err
	}
	c := w.conns[0]
	var chunk [65536]byte
	var sent uint64
	w0, c0 := wallNs(), cpuNs()
	quiet := w0
	for w.srvBytes < total && w.err == nil {
		for sent < total {
			want := total - sent
			if want > uint64(len(chunk)) {
				want = uint64(len(chunk))
			}
			var r bytes.Reader
			r.Reset(chunk[:want])
			n, err := c.ep.Write(&r, tcpip.WriteOptions{})
			if n > 0 {
				sent += uint64(n)
			}
			if err != nil {
				if _, ok := err.(*tcpip.ErrWouldBlock); !ok {
					w.fail("bulk write: %v", err)
				}
				break
			}
		}
		now := wallNs()
		if w.step(50 * time.Millisecond) {
			quiet = now
		} else if now-quiet > 5e9 {
			w.fail("bulk: nothing happened for 5 s at %d bytes", w.srvBytes)
		}
	}
	wall, cpu := wallNs()-w0, cpuNs()-c0
	_, retrans = w.p.drops()
	if w.err != nil {
		return 0, 0, 0, w.err
	}
	return float64(total) * 8 / float64(wall), float64(cpu) / 1e9 / (float64(total) / 1e9), retrans, nil
}

func benchBulk() {
	var g, c []float64
	var retrans uint64
	for r := 0; r < opt.reps; r++ {
		a, b, rt, err := bulkRun(opt.bytes)
		if err != nil {
			skip("bulk", "mss1460", "gbit_per_s", "failed: %v", err)
			return
		}
		logf("bulk: %.2f Gbit/s, %.3f s CPU per GB", a, b)
		g, c, retrans = append(g, a), append(c, b), rt
	}
	add("bulk", "mss1460", "gbit_per_s", median(g),
		"%s; MSS 1460, no GSO; %d MB; GOMAXPROCS %d; CPU of the whole process (Go "+
			"runtime, GC); %d segments retransmitted in the last run",
		settings, opt.bytes>>20, opt.procs, retrans)
	add("bulk", "mss1460", "cpu_s_per_gb", median(c), "")
}
