/*
 * fork and exec under libsynack-preload (issue 15 item 3), run by
 * tests/preload/test_preload.sh.
 *
 *   preload_fork worker PORT
 *       listens on PORT, forks; the child (the one worker) accepts one
 *       connection (which gives it the stack), tells the parent through a
 *       pipe, reads "ping", answers "pong", exits 0.  Meanwhile the
 *       parent's accept() must fail with EPERM (the stack is the
 *       child's); once the child has exited, the parent takes the stack
 *       back and its accept() says EAGAIN (nothing waiting).  Prints
 *       "worker ok" and exits 0.
 *   preload_fork workers PORT
 *       listens on PORT and forks two workers, as nginx with
 *       worker_processes 2: the first accepts (EAGAIN, nothing waits;
 *       that gives it the stack) and waits; the second's two accepts
 *       then fail with EPERM (the preload says why on stderr, once).
 *       Prints "workers ok" and exits 0.
 *   preload_fork exec HOST PORT
 *       connects, sends 1000 bytes and execs /bin/true without the
 *       preload: the peer must read the 1000 bytes and then its EOF (the
 *       exec closed the connection with a FIN, none is left half-open).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A listener on PORT (any address), or -1. */
static int listener(int port, int flags)
{
	int l = socket(AF_INET, SOCK_STREAM | flags, 0), v = 1;
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 8) != 0) {
		perror("bind/listen");
		return -1;
	}
	return l;
}

static int worker(int port)
{
	int l = listener(port, 0);
	if (l < 0)
		return 1;
	printf("listening\n");
	fflush(stdout);
	int p[2];
	if (pipe(p) != 0)
		return 1;
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		int c = accept(l, NULL, NULL);
		if (write(p[1], "a", 1) != 1)
			_exit(1);
		char buf[4];
		size_t got = 0;
		while (c >= 0 && got < 4) {
			ssize_t n = read(c, buf + got, 4 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (c < 0 || got != 4 || memcmp(buf, "ping", 4) != 0 || write(c, "pong", 4) != 4) {
			fprintf(stderr, "worker: accept %d, read %zu\n", c, got);
			_exit(1);
		}
		close(c);
		close(l);
		exit(0);
	}
	char b;
	if (read(p[0], &b, 1) != 1)
		return 1;
	fcntl(l, F_SETFL, O_NONBLOCK);
	int c = accept(l, NULL, NULL);
	if (c >= 0 || errno != EPERM) {
		fprintf(stderr, "the master's accept while the worker runs: %d %s, want EPERM\n", c,
		        strerror(errno));
		return 1;
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "the worker failed (status %d)\n", st);
		return 1;
	}
	c = accept(l, NULL, NULL);
	if (c >= 0 || errno != EAGAIN) {
		fprintf(stderr, "the master's accept after the worker exited: %d %s, want EAGAIN\n",
		        c, strerror(errno));
		return 1;
	}
	printf("worker ok\n");
	return 0;
}

static int workers(int port)
{
	int l = listener(port, SOCK_NONBLOCK);
	if (l < 0)
		return 1;
	int up[2], down[2];
	if (pipe(up) != 0 || pipe(down) != 0)
		return 1;
	fflush(stdout);
	pid_t w1 = fork();
	if (w1 == 0) {
		int c = accept(l, NULL, NULL);
		int e = errno;
		char b = c < 0 && e == EAGAIN ? 'a' : 'x';
		if (write(up[1], &b, 1) != 1 || read(down[0], &b, 1) != 1)
			_exit(1);
		exit(0);
	}
	char b;
	if (w1 < 0 || read(up[0], &b, 1) != 1 || b != 'a') {
		fprintf(stderr, "the first worker's accept did not say EAGAIN\n");
		return 1;
	}
	pid_t w2 = fork();
	if (w2 == 0) {
		for (int i = 0; i < 2; i++) {
			int c = accept(l, NULL, NULL);
			if (c >= 0 || errno != EPERM) {
				fprintf(stderr, "the second worker's accept: %d %s, want EPERM\n",
				        c, strerror(errno));
				_exit(1);
			}
		}
		_exit(0);
	}
	int st2 = -1, st1 = -1;
	waitpid(w2, &st2, 0);
	if (write(down[1], "q", 1) != 1)
		return 1;
	waitpid(w1, &st1, 0);
	if (!WIFEXITED(st2) || WEXITSTATUS(st2) != 0 || !WIFEXITED(st1) || WEXITSTATUS(st1) != 0) {
		fprintf(stderr, "the workers failed (status %d, %d)\n", st1, st2);
		return 1;
	}
	printf("workers ok\n");
	return 0;
}

static int exec_close(const char *host, int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &a.sin_addr);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("connect");
		return 1;
	}
	static char buf[1000];
	memset(buf, 'x', sizeof(buf));
	if (write(s, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
		perror("write");
		return 1;
	}
	char *argv[] = {"true", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	execve("/bin/true", argv, envp);
	perror("execve");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "worker") == 0)
		return worker(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "workers") == 0)
		return workers(atoi(argv[2]));
	if (argc == 4 && strcmp(argv[1], "exec") == 0)
		return exec_close(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: preload_fork worker PORT | workers PORT | exec HOST PORT\n");
	return 2;
}
