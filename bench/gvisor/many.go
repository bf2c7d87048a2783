package main

import (
	"fmt"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// openMany opens n connections, at most 1024 handshakes at a time, and
// waits until every one is established and accepted.
func (w *world) openMany(n int) error {
	w.bindAll = true
	opened := 0
	quiet := time.Now()
	for (w.estab < n || int(w.accepted) < n) && w.err == nil {
		for opened < n && opened-w.estab < 1024 && w.err == nil {
			w.open(opened)
			opened++
		}
		if w.step(50 * time.Millisecond) {
			quiet = time.Now()
		} else if time.Since(quiet) > 5*time.Second {
			w.fail("%d of %d established, %d accepted: nothing happened for 5 s",
				w.estab, n, w.accepted)
		}
	}
	return w.err
}

func per(after, before uint64, n float64) float64 {
	return (float64(after) - float64(before)) / n
}

// ------------------------------------------------------------------
// Memory: idle established connections, then the same in TIME_WAIT.

func benchMemory() {
	n := opt.conns
	w := newWorld(n)
	defer w.close()
	// TIME_WAIT for an hour: 100,000 closes can take longer than gVisor's
	// 60 s on a busy machine, and the first would expire mid-count (synack
	// counts on a virtual clock for the same reason).
	tw := tcpip.TCPTimeWaitTimeoutOption(time.Hour)
	if err := w.p.cli.SetTransportProtocolOption(tcp.ProtocolNumber, &tw); err != nil {
		fatalf("TIME_WAIT timeout: %v", err)
	}
	w.step(time.Millisecond)
	h0, r0 := heapLive(), rss()
	if err := w.openMany(n); err != nil {
		skip("memory", "heap", "bytes_per_established", "failed: %v", err)
		return
	}
	h1, r1 := heapLive(), rss()
	add("memory", "heap", "bytes_per_established", per(h1, h0, 2*float64(n)),
		"Go heap in live objects after a collection (runtime/metrics "+
			"/memory/classes/heap/objects:bytes), both ends, / (2 x %d)", n)
	add("memory", "rss", "bytes_per_established", per(r1, r0, 2*float64(n)),
		"process RSS delta after a collection and FreeOSMemory, both ends, / (2 x %d)", n)

	// The clients close first and keep TIME_WAIT; the server closes on
	// EOF and its endpoints go away.
	for i := 0; i < n; i++ {
		w.conns[i].state = stClosed
		w.conns[i].ep.Close()
		if (i+1)%1024 == 0 {
			w.step(time.Millisecond)
		}
	}
	// Until every server endpoint has closed and every client is in
	// TIME_WAIT, or nothing changed for 10 s (100,000 closes take longer
	// than that on a busy machine, so no fixed deadline; the FINs are
	// handled by gVisor's goroutines after the server's closes return).
	nTW, live := 0, w.srvLive
	quiet := time.Now()
	for w.err == nil && time.Since(quiet) < 10*time.Second {
		w.step(10 * time.Millisecond)
		if w.srvLive != live {
			live, quiet = w.srvLive, time.Now()
		}
		if w.srvLive > 0 {
			continue
		}
		states := map[tcp.EndpointState]int{}
		for i := 0; i < n; i++ {
			states[tcp.EndpointState(w.conns[i].ep.State())]++
		}
		if states[tcp.StateTimeWait] != nTW {
			nTW, quiet = states[tcp.StateTimeWait], time.Now()
		}
		if nTW == n {
			break
		}
		if time.Since(quiet) >= 10*time.Second {
			skip("memory", "heap", "bytes_per_time_wait",
				"%d of %d connections reached TIME_WAIT (client states: %v)", nTW, n, states)
			return
		}
	}
	if nTW != n {
		skip("memory", "heap", "bytes_per_time_wait",
			"%d of %d connections reached TIME_WAIT (%d server endpoints left)", nTW, n, w.srvLive)
		return
	}
	h2, r2 := heapLive(), rss()
	add("memory", "heap", "bytes_per_time_wait", per(h2, h0, float64(n)),
		"Go heap in live objects from before the connections / %d TIME_WAIT: gVisor "+
			"keeps the whole endpoint in TIME_WAIT (its timeout set to an hour for the count)", n)
	add("memory", "rss", "bytes_per_time_wait", per(r2, r0, float64(n)),
		"RSS delta from before the connections / %d TIME_WAIT (upper bound)", n)
}

// ------------------------------------------------------------------
// Scale: many established connections, then 64-byte echoes on random
// ones in batches of 1,000.

func scaleOne(n int) (bytesPerConn float64, ok bool) {
	variant := fmt.Sprint(n)
	w := newWorld(n)
	defer w.close()
	w.step(time.Millisecond)
	h0, r0 := heapLive(), rss()
	t0 := wallNs()
	if err := w.openMany(n); err != nil {
		skip("scale", variant, "setup_per_s", "failed: %v", err)
		return 0, false
	}
	setup := wallNs() - t0
	h1, r1 := heapLive(), rss()
	add("scale", variant, "setup_per_s", float64(n)/(float64(setup)/1e9), "")
	add("scale", variant, "rss_bytes", float64(r1)-float64(r0),
		"process RSS delta after a collection: both ends (%d connections in one server "+
			"stack and one client stack) and the Go runtime", n)
	add("scale", variant, "heap_bytes", float64(h1)-float64(h0),
		"Go heap in live objects after a collection, both ends")
	logf("scale %d: setup %.0f/s, RSS +%.1f MiB", n, float64(n)/(float64(setup)/1e9),
		(float64(r1)-float64(r0))/1048576)

	w.echo = true
	x := uint64(0x9e3779b97f4a7c15)
	msg := make([]byte, reqLen)
	msg[0] = 1
	segs0, c0 := w.p.segments(), cpuNs()
	want := w.cliBytes
	for done := 0; done < opt.msgs && w.err == nil; done += 1000 {
		for b := 0; b < 1000; b++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			if !w.write(w.conns[x%uint64(n)], msg) {
				break
			}
			want += reqLen
		}
		w.until("scale echo", func() bool { return w.cliBytes >= want })
	}
	cpu := cpuNs() - c0
	segs := w.p.segments() - segs0
	if w.err != nil {
		skip("scale", variant, "ns_per_segment", "failed: %v", w.err)
		return 0, false
	}
	add("scale", variant, "ns_per_segment", float64(cpu)/float64(segs),
		"CPU ns per segment received (%d segments, %d 64-byte echoes on random "+
			"connections in batches of 1000, both ends, the Go runtime included)",
		segs, opt.msgs)
	return (float64(r1) - float64(r0)) / float64(n), true
}

func benchScale() {
	var perConn float64
	for k, n := range opt.scale {
		if k > 0 && perConn > 0 && perConn*float64(n) > float64(opt.maxRSS) {
			// As far towards the count as the memory allows, to one
			// significant digit.
			fit := int(float64(opt.maxRSS) / perConn)
			for m := 1; ; m *= 10 {
				if fit < m*10 {
					fit = fit / m * m
					break
				}
			}
			skip("scale", fmt.Sprint(n), "setup_per_s",
				"not run: %.0f B of RSS per connection at %d would need %.1f GiB, over "+
					"the %.1f GiB this run allows (-max-rss); ran %d instead",
				perConn, opt.scale[k-1], perConn*float64(n)/(1<<30),
				float64(opt.maxRSS)/(1<<30), fit)
			if fit <= opt.scale[k-1] {
				continue
			}
			n = fit
		}
		p, ok := scaleOne(n)
		if !ok {
			return
		}
		perConn = p
	}
}
