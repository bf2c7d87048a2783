/*
 * The socket calls of libsynack-preload against the kernel's (issue 15):
 * one run of this program on kernel sockets and one under the preload
 * must print the same lines (tests/preload/test_preload.sh compares them).
 * Each line is a call (or a few) and what it returned: a value, or -1 and
 * errno's name.  Nothing printed depends on addresses, ports or timing.
 *
 * Usage: preload_calls PEER_ADDR ECHO_PORT CLOSED_PORT LISTEN_PORT [FINRST_PORT]
 *   PEER_ADDR:ECHO_PORT echoes what it reads until EOF, then closes;
 *   PEER_ADDR:FINRST_PORT reads a byte, then sends its FIN and a RST;
 *   nothing listens on PEER_ADDR:CLOSED_PORT; a client connects to this
 *   program's LISTEN_PORT, sends "ping", reads to EOF, three times (the
 *   first two are taken with address buffers that fault, and closed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t sigpipes, alarms;

static void on_pipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static int restart_fd = -1;
static volatile sig_atomic_t usr1s;

#ifndef __SANITIZE_ADDRESS__
static sigjmp_buf segv_jmp;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}
#endif

static void on_usr1(int sig)
{
	(void)sig;
	usr1s++;
}

/* The second alarm (restart_fd set) sends one byte for the peer to echo. */
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	if (restart_fd >= 0 && alarms == 2) {
		struct itimerval it = {{0, 0}, {0, 100000}};
		setitimer(ITIMER_REAL, &it, NULL);
	} else if (restart_fd >= 0 && alarms == 3) {
		if (write(restart_fd, "r", 1) != 1)
			alarms = 100;
	}
}

static const char *ename(int e)
{
	switch (e) {
#define E(x)                                                                                       \
	case x:                                                                                    \
		return #x
		E(EAGAIN);
		E(EBADF);
		E(EINVAL);
		E(EFAULT);
		E(ENOTCONN);
		E(EPIPE);
		E(ECONNREFUSED);
		E(EINPROGRESS);
		E(EISCONN);
		E(EALREADY);
		E(EADDRNOTAVAIL);
		E(EADDRINUSE);
		E(EAFNOSUPPORT);
		E(ENOPROTOOPT);
		E(EINTR);
		E(EEXIST);
		E(ENOENT);
		E(EOPNOTSUPP);
		E(ECONNRESET);
		E(EPROTONOSUPPORT);
		E(ENOTSOCK);
		E(EDOM);
		E(ENOTTY);
		E(EMSGSIZE);
		E(ESOCKTNOSUPPORT);
		E(EPROTOTYPE);
#undef E
	}
	return "E?";
}

/* "name: rc" or "name: -1 ERRNO". */
static long show(const char *name, long rc)
{
	if (rc < 0)
		printf("%s: -1 %s\n", name, ename(errno));
	else
		printf("%s: %ld\n", name, rc);
	fflush(stdout);
	return rc;
}

static struct sockaddr_in sa(const char *addr, int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, addr, &a.sin_addr);
	return a;
}

static int getint(int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, level, name, &v, &len) != 0)
		return -(errno * 1000);
	return v;
}

static int tcp(int flags)
{
	return socket(AF_INET, SOCK_STREAM | flags, 0);
}

/* Reads until n bytes or EOF; returns the count. */
static long read_n(int fd, char *buf, long n)
{
	long got = 0;
	while (got < n) {
		ssize_t k = read(fd, buf + got, (size_t)(n - got));
		if (k <= 0)
			break;
		got += k;
	}
	return got;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: preload_calls PEER_ADDR ECHO_PORT CLOSED_PORT LISTEN_PORT "
		                "[FINRST_PORT]\n");
		return 2;
	}
	const char *peer = argv[1];
	int echo_port = atoi(argv[2]), closed_port = atoi(argv[3]), listen_port = atoi(argv[4]);
	struct sigaction act;
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_pipe;
	sigaction(SIGPIPE, &act, NULL);
	act.sa_handler = on_alarm; /* no SA_RESTART: blocking calls give EINTR */
	sigaction(SIGALRM, &act, NULL);

	/* A fresh socket. */
	int s = (int)show("socket nonblock cloexec", tcp(SOCK_NONBLOCK | SOCK_CLOEXEC) >= 0);
	s = tcp(SOCK_NONBLOCK | SOCK_CLOEXEC);
	show("F_GETFL nonblock", (fcntl(s, F_GETFL) & O_NONBLOCK) != 0);
	show("F_GETFD cloexec", fcntl(s, F_GETFD) & FD_CLOEXEC);
	show("SO_TYPE", getint(s, SOL_SOCKET, SO_TYPE));
	show("SO_DOMAIN", getint(s, SOL_SOCKET, SO_DOMAIN));
	show("SO_PROTOCOL", getint(s, SOL_SOCKET, SO_PROTOCOL));
	show("SO_ERROR", getint(s, SOL_SOCKET, SO_ERROR));
	show("SO_ACCEPTCONN", getint(s, SOL_SOCKET, SO_ACCEPTCONN));
	int v = 1;
	show("TCP_NODELAY set", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)));
	show("TCP_NODELAY get", getint(s, IPPROTO_TCP, TCP_NODELAY));
	v = 30;
	show("TCP_KEEPIDLE set", setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)));
	show("TCP_KEEPIDLE get", getint(s, IPPROTO_TCP, TCP_KEEPIDLE));
	v = 1;
	show("SO_KEEPALIVE set", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)));
	show("SO_KEEPALIVE get", getint(s, SOL_SOCKET, SO_KEEPALIVE));
	show("SO_REUSEADDR set", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	show("SO_REUSEADDR get", getint(s, SOL_SOCKET, SO_REUSEADDR) != 0);
	show("setsockopt short", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, 2));
	show("setsockopt NULL", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, NULL, sizeof(v)));
	show("setsockopt unknown", setsockopt(s, IPPROTO_TCP, 9999, &v, sizeof(v)));
	show("getsockopt unknown", getint(s, IPPROTO_TCP, 9999));
	struct linger lg = {1, 5}, lg2;
	socklen_t ll = sizeof(lg2);
	show("SO_LINGER set", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	show("SO_LINGER get",
	     getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &ll) == 0 ? lg2.l_linger : -1);
	struct timeval tv = {0, 2000000};
	show("SO_RCVTIMEO bad usec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	char buf[256];
	show("recv unconnected", recv(s, buf, sizeof(buf), 0));
	show("send unconnected", send(s, "x", 1, 0));
	show("sigpipes", sigpipes);
	show("send unconnected nosignal", send(s, "x", 1, MSG_NOSIGNAL));
	show("sigpipes", sigpipes);
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	show("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &al));
	al = sizeof(a);
	show("getsockname unconnected", getsockname(s, (struct sockaddr *)&a, &al));
	show("getsockname len", al);
	show("getsockname port", ntohs(a.sin_port));
	show("shutdown unconnected", shutdown(s, SHUT_WR));
	show("ioctl FIONREAD unconnected", ioctl(s, FIONREAD, &v) == 0 ? v : -1);
	a = sa("10.9.9.9", 0);
	show("bind foreign", bind(s, (struct sockaddr *)&a, sizeof(a)));
	show("bind short", bind(s, (struct sockaddr *)&a, 4));
	struct sockaddr_in6 a6;
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	show("bind inet6 addr", bind(s, (struct sockaddr *)&a6, sizeof(a6)));
	show("close", close(s));
	show("close again", close(s));
	show("recv closed", recv(s, buf, 1, 0));

	/* A listener. */
	int l = tcp(SOCK_NONBLOCK);
	v = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	a = sa("0.0.0.0", listen_port);
	show("bind any", bind(l, (struct sockaddr *)&a, sizeof(a)));
	show("bind again", bind(l, (struct sockaddr *)&a, sizeof(a)));
	show("listen", listen(l, 16));
	show("SO_ACCEPTCONN listening", getint(l, SOL_SOCKET, SO_ACCEPTCONN));
	al = sizeof(a);
	show("getsockname listener", getsockname(l, (struct sockaddr *)&a, &al));
	show("getsockname listener any", a.sin_addr.s_addr == htonl(INADDR_ANY));
	show("getsockname listener port", ntohs(a.sin_port));
	show("accept none", accept(l, NULL, NULL));
	show("accept4 bad flags", accept4(l, NULL, NULL, 0x1234));
	show("recv listener", recv(l, buf, 1, 0));
	int l2 = tcp(0);
	show("bind in use", bind(l2, (struct sockaddr *)&a, sizeof(a)));
	close(l2);

	/* Refused. */
	int c = tcp(0);
	a = sa(peer, closed_port);
	show("connect refused", connect(c, (struct sockaddr *)&a, sizeof(a)));
	close(c);
	c = tcp(SOCK_NONBLOCK);
	show("connect nonblock", connect(c, (struct sockaddr *)&a, sizeof(a)));
	struct pollfd pf = {c, POLLOUT, 0};
	show("poll refused", poll(&pf, 1, 5000));
	show("poll refused revents", pf.revents & (POLLOUT | POLLERR | POLLHUP | POLLIN));
	show("SO_ERROR refused", getint(c, SOL_SOCKET, SO_ERROR));
	show("SO_ERROR again", getint(c, SOL_SOCKET, SO_ERROR));
	close(c);

	/* An echo connection. */
	c = tcp(0);
	a = sa(peer, echo_port);
	show("connect echo", connect(c, (struct sockaddr *)&a, sizeof(a)));
	show("connect again", connect(c, (struct sockaddr *)&a, sizeof(a)));
	al = sizeof(a);
	show("getpeername", getpeername(c, (struct sockaddr *)&a, &al));
	show("getpeername port", ntohs(a.sin_port));
	show("recv dontwait empty", recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	tv = (struct timeval){0, 200000};
	show("SO_RCVTIMEO set", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	show("recv timeout", recv(c, buf, sizeof(buf), 0));
	tv = (struct timeval){0, 0};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* A signal interrupts a blocking recv. */
	struct itimerval it = {{0, 0}, {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
	show("recv interrupted", recv(c, buf, sizeof(buf), 0));
	show("alarms", alarms);
	/* With SA_RESTART the same recv goes on after the handler: the
	 * peer's echo of a byte sent 200 ms later (by the alarm handler of
	 * a second timer) ends it. */
	act.sa_handler = on_alarm;
	act.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &act, NULL);
	restart_fd = c;
	it = (struct itimerval){{0, 0}, {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
	show("recv restarted", recv(c, buf, sizeof(buf), 0));
	show("alarms", alarms);
	/* SA_RESTART exactly (signal(7)): with SIGUSR1's handler installed
	 * without it, SIGALRM's (with it) still restarts the recv, and
	 * SIGUSR1 itself interrupts it. */
	act.sa_handler = on_usr1;
	act.sa_flags = 0;
	sigaction(SIGUSR1, &act, NULL);
	struct sigaction got_act;
	sigaction(SIGUSR1, NULL, &got_act);
	show("sigaction reads back",
	     got_act.sa_handler == on_usr1 && !(got_act.sa_flags & SA_RESTART));
	alarms = 1;
	it = (struct itimerval){{0, 0}, {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
	show("recv restarted, other handler without SA_RESTART", recv(c, buf, sizeof(buf), 0));
	show("alarms", alarms);
	restart_fd = -1;
	timer_t tm;
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	timer_create(CLOCK_MONOTONIC, &sev, &tm);
	struct itimerspec its = {{0, 0}, {0, 100000000}};
	timer_settime(tm, 0, &its, NULL);
	show("recv interrupted by the handler without SA_RESTART", recv(c, buf, sizeof(buf), 0));
	show("usr1s", usr1s);
	timer_delete(tm);
	act.sa_flags = 0;
	act.sa_handler = on_alarm;
	sigaction(SIGALRM, &act, NULL);

	/* Buffers that fault: EFAULT, never a crash (and the data stays).
	 * Not in the ASan build: ASan's own interceptors of these calls in
	 * this program touch the buffers first, on kernel sockets too. */
#ifndef __SANITIZE_ADDRESS__
	{
		long psz = sysconf(_SC_PAGESIZE);
		char *none = mmap(NULL, (size_t)psz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *ro = mmap(NULL, (size_t)psz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct iovec biov = {none, 10};
		show("send unmapped", send(c, none, 100, 0));
		show("write unmapped", write(c, none, 100));
		show("writev unmapped array", writev(c, (struct iovec *)none, 1));
		show("writev unmapped buffer", writev(c, &biov, 1));
		show("sendto unmapped address", sendto(c, "x", 1, 0, (struct sockaddr *)none, 16));
		show("sendmsg unmapped msghdr", sendmsg(c, (struct msghdr *)none, 0));
		struct msghdr bm;
		memset(&bm, 0, sizeof(bm));
		bm.msg_iov = (struct iovec *)none;
		bm.msg_iovlen = 1;
		show("sendmsg unmapped iov", sendmsg(c, &bm, 0));
		show("send after", send(c, "abcdef", 6, 0));
		usleep(100000); /* all six bytes back */
		show("recv unmapped", recv(c, none, 3, 0));
		show("recv read-only", recv(c, ro, 3, 0));
		show("read unmapped", read(c, none, 3));
		show("readv unmapped array", readv(c, (struct iovec *)none, 1));
		show("readv read-only buffer", (biov.iov_base = ro, readv(c, &biov, 1)));
		show("recvmsg unmapped msghdr", recvmsg(c, (struct msghdr *)none, 0));
		show("recvmsg unmapped iov", recvmsg(c, &bm, 0));
		show("recvfrom unmapped addrlen",
		     recvfrom(c, buf, 1, 0, (struct sockaddr *)&a, (socklen_t *)none));
		show("recv rest", recv(c, buf, 5, MSG_WAITALL));
		show("recv rest data", memcmp(buf, "bcdef", 5) == 0);
		al = sizeof(a);
		show("getsockname unmapped", getsockname(c, (struct sockaddr *)none, &al));
		show("getsockname unmapped len",
		     getsockname(c, (struct sockaddr *)&a, (socklen_t *)none));
		show("getpeername read-only", getpeername(c, (struct sockaddr *)ro, &al));
		show("getpeername read-only len",
		     getpeername(c, (struct sockaddr *)&a, (socklen_t *)ro));
		socklen_t ol = sizeof(int);
		show("getsockopt unmapped", getsockopt(c, SOL_SOCKET, SO_TYPE, none, &ol));
		show("getsockopt read-only len",
		     getsockopt(c, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)ro));
		show("setsockopt unmapped",
		     setsockopt(c, IPPROTO_TCP, TCP_NODELAY, none, sizeof(int)));
		show("ioctl FIONREAD read-only", ioctl(c, FIONREAD, ro));
		int bs = tcp(0);
		show("bind unmapped",
		     bind(bs, (struct sockaddr *)none, sizeof(struct sockaddr_in)));
		show("connect unmapped",
		     connect(bs, (struct sockaddr *)none, sizeof(struct sockaddr_in)));
		close(bs);
		show("poll unmapped", poll((struct pollfd *)none, 1, 0));
		struct pollfd *rpf = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE,
		                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		rpf[0] = (struct pollfd){c, POLLOUT, 0};
		mprotect(rpf, (size_t)psz, PROT_READ);
		show("poll read-only", poll(rpf, 1, 0));
		fd_set *rset = (fd_set *)ro;
		struct timeval ztv = {0, 0};
		show("select read-only", select(c + 1, rset, NULL, NULL, &ztv));
		int bep = epoll_create1(0);
		struct epoll_event bev = {.events = EPOLLOUT};
		show("epoll_ctl unmapped",
		     epoll_ctl(bep, EPOLL_CTL_ADD, c, (struct epoll_event *)none));
		epoll_ctl(bep, EPOLL_CTL_ADD, c, &bev);
		show("epoll_wait unmapped", epoll_wait(bep, (struct epoll_event *)none, 4, 0));
		show("epoll_wait read-only", epoll_wait(bep, (struct epoll_event *)ro, 4, 0));
		close(bep);
		/* The program's own SIGSEGV handler still sees its faults
		 * (and reads back as set), and without one a fault still
		 * kills with SIGSEGV. */
		struct sigaction sact, sold;
		memset(&sact, 0, sizeof(sact));
		sact.sa_handler = on_segv;
		sigaction(SIGSEGV, &sact, NULL);
		sigaction(SIGSEGV, NULL, &sold);
		show("SIGSEGV handler reads back", sold.sa_handler == on_segv);
		volatile int faulted = 0;
		if (sigsetjmp(segv_jmp, 1) == 0)
			*(volatile char *)none = 1;
		else
			faulted = 1;
		show("own SIGSEGV handler ran", faulted);
		send(c, "y", 1, 0);
		usleep(100000); /* the byte back */
		show("recv unmapped, own handler", recv(c, none, 1, 0));
		show("recv after", recv(c, buf, 1, 0));
		sact.sa_handler = SIG_DFL;
		sigaction(SIGSEGV, &sact, NULL);
		fflush(stdout);
		pid_t kid = fork();
		if (kid == 0) {
			prctl(PR_SET_DUMPABLE, 0);
			*(volatile char *)none = 1;
			_exit(0);
		}
		int kst = 0;
		waitpid(kid, &kst, 0);
		show("fault kills", WIFSIGNALED(kst) && WTERMSIG(kst) == SIGSEGV);
		munmap(rpf, (size_t)psz);
		munmap(none, (size_t)psz);
		munmap(ro, (size_t)psz);
	}
#endif

	static char big[200000], back[200000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	show("send big", send(c, big, sizeof(big), 0));
	show("recv waitall", recv(c, back, sizeof(back), MSG_WAITALL));
	show("echo equal", memcmp(big, back, sizeof(big)) == 0);
	struct iovec iov[3] = {{"ab", 2}, {"cde", 3}, {"f", 1}};
	show("writev", writev(c, iov, 3));
	pf = (struct pollfd){c, POLLIN, 0};
	show("poll in", poll(&pf, 1, 5000));
	usleep(100000); /* all six bytes back (the count below) */
	show("FIONREAD", ioctl(c, FIONREAD, &v) == 0 ? v : -1);
	show("recv peek", recv(c, buf, 2, MSG_PEEK));
	char r1[3], r2[3];
	struct iovec riov[2] = {{r1, 3}, {r2, 3}};
	show("readv", readv(c, riov, 2));
	show("readv data", memcmp(r1, "abc", 3) == 0 && memcmp(r2, "def", 3) == 0);
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	struct iovec miov = {"hello", 5};
	mh.msg_iov = &miov;
	mh.msg_iovlen = 1;
	show("sendmsg", sendmsg(c, &mh, 0));
	memset(&mh, 0, sizeof(mh));
	miov = (struct iovec){buf, 5};
	mh.msg_iov = &miov;
	mh.msg_iovlen = 1;
	show("recvmsg", recvmsg(c, &mh, MSG_WAITALL));
	show("recvmsg data", memcmp(buf, "hello", 5) == 0);
	al = sizeof(a);
	show("recvfrom len",
	     (write(c, "z", 1), recvfrom(c, buf, 1, 0, (struct sockaddr *)&a, &al)));
	show("recvfrom addrlen", al);

	/* SO_SNDTIMEO: the peer echoes, we do not read, so both ways fill
	 * up; a blocking send of 64 MiB returns what it queued once the
	 * timeout passes (how much depends on the buffers). */
	{
		int t = tcp(0);
		struct sockaddr_in ea = sa(peer, echo_port);
		connect(t, (struct sockaddr *)&ea, sizeof(ea));
		struct timeval stv = {0, 300000};
		show("SO_SNDTIMEO set", setsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &stv, sizeof(stv)));
		socklen_t sl = sizeof(stv);
		stv = (struct timeval){0, 0};
		getsockopt(t, SOL_SOCKET, SO_SNDTIMEO, &stv, &sl);
		show("SO_SNDTIMEO get ms", stv.tv_sec * 1000 + stv.tv_usec / 1000);
		size_t huge = 64u << 20;
		char *h = calloc(1, huge);
		ssize_t k = send(t, h, huge, 0);
		show("send timeout partial", k > 0 && k < (ssize_t)huge);
		free(h);
		close(t);
	}

	/* sendfile from a file. */
	char path[] = "/tmp/preload_calls.XXXXXX";
	int f = mkstemp(path);
	unlink(path);
	show("file write", write(f, big, 50000));
	off_t off = 1000;
	show("sendfile", sendfile(c, f, &off, 20000));
	show("sendfile offset", off);
	show("sendfile back", read_n(c, back, 20000));
	show("sendfile equal", memcmp(back, big + 1000, 20000) == 0);
	lseek(f, 0, SEEK_SET);
	show("sendfile no offset", sendfile(c, f, NULL, 3000));
	show("sendfile file pos", lseek(f, 0, SEEK_CUR));
	show("sendfile back", read_n(c, back, 3000));
	close(f);

	/* dup: the copy shares the socket; close of one keeps it. */
	int d = dup(c);
	show("dup", d >= 0);
	show("dup SO_TYPE", getint(d, SOL_SOCKET, SO_TYPE));
	show("close original", close(c));
	show("write dup", write(d, "q", 1));
	show("read dup", read(d, buf, 1));
	int d2 = dup2(d, 100);
	show("dup2", d2);
	show("dup3 same", dup3(d2, d2, 0));
	show("fcntl dupfd", fcntl(d2, F_DUPFD_CLOEXEC, 200) >= 200);
	close(d2);
	close(200);

	/* FIONBIO, then EAGAIN. */
	v = 1;
	show("FIONBIO", ioctl(d, FIONBIO, &v));
	show("F_GETFL after FIONBIO", (fcntl(d, F_GETFL) & O_NONBLOCK) != 0);
	show("read nonblock empty", read(d, buf, 1));
	v = 0;
	ioctl(d, FIONBIO, &v);

	/* poll, select and epoll over a pipe and the socket. */
	int p[2];
	show("pipe", pipe(p));
	show("pipe write", write(p[1], "x", 1));
	struct pollfd pfs[2] = {{d, POLLIN, 0}, {p[0], POLLIN, 0}};
	show("poll mixed", poll(pfs, 2, 1000));
	show("poll mixed socket", pfs[0].revents);
	show("poll mixed pipe", pfs[1].revents);
	fd_set rs, ws;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(d, &rs);
	FD_SET(p[0], &rs);
	FD_SET(d, &ws);
	tv = (struct timeval){1, 0};
	show("select mixed", select(d > p[0] ? d + 1 : p[0] + 1, &rs, &ws, NULL, &tv));
	show("select socket read", FD_ISSET(d, &rs));
	show("select socket write", FD_ISSET(d, &ws));
	show("select pipe read", FD_ISSET(p[0], &rs));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
	show("epoll add socket", epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev));
	show("epoll add again", epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev));
	ev.data.u64 = 9;
	show("epoll add pipe", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	struct epoll_event out[4];
	show("epoll wait", epoll_wait(ep, out, 4, 1000));
	show("epoll wait data", (long)out[0].data.u64);
	ev.events = EPOLLOUT;
	ev.data.u64 = 8;
	show("epoll mod socket", epoll_ctl(ep, EPOLL_CTL_MOD, d, &ev));
	read(p[0], buf, 1);
	show("epoll wait out", epoll_wait(ep, out, 4, 1000));
	show("epoll wait out data", (long)out[0].data.u64);
	show("epoll wait out events", out[0].events);
	struct timespec ets = {1, 0};
	show("epoll_pwait2 out", epoll_pwait2(ep, out, 4, &ets, NULL));
	show("epoll_pwait2 out data", (long)out[0].data.u64);
	show("epoll del", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL));
	show("epoll del again", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL));
	show("epoll mod missing", epoll_ctl(ep, EPOLL_CTL_MOD, d, &ev));
	show("epoll wait empty", epoll_wait(ep, out, 4, 100));
	int nep = 12345;
	show("epoll_ctl bad epfd", epoll_ctl(nep, EPOLL_CTL_ADD, d, &ev));
	close(ep);

	/* The end: our FIN, the echo's FIN. */
	show("shutdown bad how", shutdown(d, 7));
	show("shutdown wr", shutdown(d, SHUT_WR));
	show("write after shutdown", write(d, "x", 1));
	show("sigpipes", sigpipes);
	show("read eof", read(d, buf, sizeof(buf)));
	close(d);
	close(p[0]);
	close(p[1]);

	/* A connection from the peer to our listener. */
	pf = (struct pollfd){l, POLLIN, 0};
	show("poll listener", poll(&pf, 1, 10000));
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	/* The peer's first connection: an address buffer that faults takes
	 * it and closes it (EFAULT); the peer connects again. */
#ifndef __SANITIZE_ADDRESS__
	char *nomap = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	show("accept unmapped address", accept(l, (struct sockaddr *)nomap, &fl));
	pf = (struct pollfd){l, POLLIN, 0};
	show("poll listener again", poll(&pf, 1, 10000));
	show("accept unmapped length", accept(l, (struct sockaddr *)&from, (socklen_t *)nomap));
	munmap(nomap, 4096);
#else
	for (int i = 0; i < 2; i++) { /* the two connections, closed */
		int x = accept(l, NULL, NULL);
		close(x);
		pf = (struct pollfd){l, POLLIN, 0};
		poll(&pf, 1, 10000);
	}
#endif
	pf = (struct pollfd){l, POLLIN, 0};
	show("poll listener again", poll(&pf, 1, 10000));
	int n = accept4(l, (struct sockaddr *)&from, &fl, SOCK_CLOEXEC);
	show("accept4", n >= 0);
	show("accept4 addrlen", fl);
	show("accepted cloexec", fcntl(n, F_GETFD) & FD_CLOEXEC);
	show("accepted nonblock", (fcntl(n, F_GETFL) & O_NONBLOCK) != 0);
	show("accepted read", read_n(n, buf, 4));
	show("accepted data", memcmp(buf, "ping", 4) == 0);
	show("accepted write", write(n, "pong", 4));
	show("accepted close", close(n));
	show("listener close", close(l));

	/* A RST in CLOSE_WAIT (the peer's FIN, then its RST): Linux's
	 * tcp_reset() makes the error EPIPE there, not ECONNRESET; a read
	 * after the FIN sees the end, never the error, which SO_ERROR and
	 * the first send report. */
	if (argc == 6) {
		int r = tcp(0);
		struct sockaddr_in ra = sa(peer, atoi(argv[5]));
		show("finrst connect", connect(r, (struct sockaddr *)&ra, sizeof(ra)));
		show("finrst write", write(r, "x", 1)); /* the peer's cue */
		show("finrst read eof", read(r, buf, sizeof(buf)));
		struct pollfd rp = {r, POLLIN, 0};
		/* Up to 10 s for the RST, until it has done all it does: the
		 * kernel's tcp_reset() reports the error before tcp_done() shuts
		 * the socket down, so a poll in between sees POLLERR without
		 * POLLHUP (revents 9 instead of 25, seen once). */
		for (int i = 0; i < 1000; i++) {
			rp.revents = 0;
			poll(&rp, 1, 0);
			if ((rp.revents & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP))
				break;
			usleep(10000);
		}
		show("finrst poll", rp.revents);
		show("finrst read after rst", read(r, buf, sizeof(buf)));
		show("finrst SO_ERROR", getint(r, SOL_SOCKET, SO_ERROR));
		show("finrst SO_ERROR again", getint(r, SOL_SOCKET, SO_ERROR));
		show("finrst send", send(r, "x", 1, MSG_NOSIGNAL));
		close(r);
	}
	return 0;
}
