package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/link/tun"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// The TAP workload: gVisor on a TAP device in a network namespace that
// synack-bench created (it runs this program under `ip netns exec`), the
// Linux kernel on the other side of the device.  "tx": gVisor sends and
// the kernel receives; "rx": the kernel sends and gVisor receives.  The
// kernel's end is a child process (-bench tap-peer) so that the CPU
// figure is gVisor's process alone.

const (
	tapKernelAddr = "10.77.0.1"
	tapGvisorAddr = "\x0a\x4d\x00\x02" // 10.77.0.2
	tapPort       = 5201
)

func sh(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func tapStack(name string) (*stack.Stack, error) {
	fd, err := tun.OpenTAP(name)
	if err != nil {
		return nil, fmt.Errorf("open TAP %s: %v", name, err)
	}
	for _, c := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "addr", "add", tapKernelAddr + "/24", "dev", name},
		{"ip", "link", "set", name, "up"},
	} {
		if err := sh(c...); err != nil {
			return nil, err
		}
	}
	ep, err := fdbased.New(&fdbased.Options{
		FDs:            []int{fd},
		MTU:            1500,
		EthernetHeader: true,
		Address:        tcpip.LinkAddress("\x02\x00\x00\x4d\x00\x02"),
	})
	if err != nil {
		return nil, fmt.Errorf("fdbased: %v", err)
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	sack := tcpip.TCPSACKEnabled(true)
	mod := tcpip.TCPModerateReceiveBufferOption(true)
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &mod} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			return nil, fmt.Errorf("transport option: %v", err)
		}
	}
	if err := s.CreateNIC(nicID, ep); err != nil {
		return nil, fmt.Errorf("NIC: %v", err)
	}
	addAddr(s, tapGvisorAddr, 24)
	sub, _ := tcpip.NewSubnet("\x0a\x4d\x00\x00", "\xff\xff\xff\x00")
	s.SetRouteTable([]tcpip.Route{{Destination: sub, NIC: nicID}})
	return s, nil
}

// tapRun moves total bytes in direction dir; wall and CPU of this process.
func tapRun(s *stack.Stack, dir string, total uint64) (wall, cpu int64, err error) {
	peer := exec.Command(os.Args[0], "-bench", "tap-peer", "-dir", dir,
		"-tap-peer", fmt.Sprintf("%s:%d", tapKernelAddr, tapPort), "-bytes", fmt.Sprint(total))
	peer.Stderr = os.Stderr
	pout, err := peer.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := peer.Start(); err != nil {
		return 0, 0, err
	}
	defer peer.Wait()
	lines := bufio.NewScanner(pout)
	if !lines.Scan() || lines.Text() != "ready" {
		peer.Process.Kill()
		return 0, 0, fmt.Errorf("the kernel peer did not start")
	}
	addr := tcpip.FullAddress{NIC: nicID, Addr: tcpip.Address(net.ParseIP(tapKernelAddr).To4()), Port: tapPort}
	c, err := gonet.DialTCP(s, addr, ipv4.ProtocolNumber)
	if err != nil {
		peer.Process.Kill()
		return 0, 0, fmt.Errorf("connect to the kernel: %v", err)
	}
	defer c.Close()
	buf := make([]byte, 65536)
	w0, c0 := wallNs(), cpuNs()
	if dir == "tx" {
		for sent := uint64(0); sent < total; {
			n := uint64(len(buf))
			if total-sent < n {
				n = total - sent
			}
			m, err := c.Write(buf[:n])
			sent += uint64(m)
			if err != nil {
				return 0, 0, fmt.Errorf("write after %d bytes: %v", sent, err)
			}
		}
		// Done when the kernel has it all.
		if !lines.Scan() || lines.Text() != "done" {
			return 0, 0, fmt.Errorf("the kernel peer did not receive everything")
		}
	} else {
		got := uint64(0)
		for got < total {
			n, err := c.Read(buf)
			got += uint64(n)
			if err != nil {
				return 0, 0, fmt.Errorf("read after %d bytes: %v", got, err)
			}
		}
	}
	return wallNs() - w0, cpuNs() - c0, nil
}

func benchTap() {
	s, err := tapStack(opt.tapName)
	if err != nil {
		skip("tap", "tx", "gbit_per_s", "failed: %v", err)
		return
	}
	for _, dir := range []string{"tx", "rx"} {
		var g, c []float64
		for r := 0; r < opt.reps; r++ {
			wall, cpu, err := tapRun(s, dir, opt.bytes)
			if err != nil {
				emit(result{Bench: "tap", Variant: dir, Metric: "gbit_per_s", Skipped: true,
					Note: fmt.Sprintf("failed: %v", err), Dir: dir})
				g = nil
				break
			}
			g = append(g, float64(opt.bytes)*8/float64(wall))
			c = append(c, float64(cpu)/1e9/(float64(opt.bytes)/1e9))
			logf("tap %s: %.2f Gbit/s, %.3f s CPU per GB", dir, g[r], c[r])
		}
		if g == nil {
			continue
		}
		gv, cv := median(g), median(c)
		emit(result{Bench: "tap", Variant: dir, Metric: "gbit_per_s", Value: &gv, Dir: dir,
			Note: fmt.Sprintf("gVisor fdbased on TAP (MTU 1500, no GSO or checksum offload, "+
				"a system call per frame) against the kernel's TCP; %s: %s; %d MB; GOMAXPROCS %d; "+
				"CPU of the gVisor process (Go runtime, GC, its system calls)", dir,
				map[string]string{"tx": "gVisor sends", "rx": "the kernel sends"}[dir],
				opt.bytes>>20, opt.procs)})
		emit(result{Bench: "tap", Variant: dir, Metric: "cpu_s_per_gb", Value: &cv, Dir: dir})
	}
	s.Close()
}

// tapPeer is the kernel's end: listens, then receives (tx) or sends (rx)
// the bytes, and says "done" on its standard output.
func tapPeer() {
	l, err := net.Listen("tcp", opt.tapPeer)
	if err != nil {
		fatalf("tap peer: %v", err)
	}
	fmt.Println("ready")
	l.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
	c, err := l.Accept()
	if err != nil {
		fatalf("tap peer: %v", err)
	}
	buf := make([]byte, 1<<18)
	if opt.dir == "tx" {
		n, err := io.CopyBuffer(io.Discard, io.LimitReader(c, int64(opt.bytes)), buf)
		if err != nil || uint64(n) != opt.bytes {
			fatalf("tap peer: received %d of %d: %v", n, opt.bytes, err)
		}
	} else {
		for sent := uint64(0); sent < opt.bytes; {
			k := uint64(len(buf))
			if opt.bytes-sent < k {
				k = opt.bytes - sent
			}
			m, err := c.Write(buf[:k])
			sent += uint64(m)
			if err != nil {
				fatalf("tap peer: sent %d: %v", sent, err)
			}
		}
	}
	fmt.Println("done")
	c.Close()
}
