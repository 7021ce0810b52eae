/*
 * kc-dial: kubecheck's in-cluster collector dials from the node it runs on, as sshd does for
 * `ssh -W` over SSH. It connects to a TCP address or a unix socket, says so on stderr, then relays
 * stdin to the connection and the connection to stdout until either side ends. Exit 0 after a
 * connection, 1 when it could not connect (the reason on stderr: strerror's text, as sshd gives it),
 * 2 on bad usage.
 *
 *   kc-dial tcp ADDRESS PORT [TIMEOUT_SECONDS]     (a numeric IPv4 or IPv6 address)
 *   kc-dial probe ADDRESS PORT [TIMEOUT_SECONDS]   (connect, say so, close: is the path open?)
 *   kc-dial unix PATH
 *
 * Built static (gcc -static -O2) into the collector image by scripts/collector-image.ts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(const char *what, const char *why) {
  fprintf(stderr, "kc-dial: %s: %s\n", what, why);
  return 1;
}

/* Non-blocking connect bounded by `timeout_ms`; returns 0 or an errno (ETIMEDOUT when out of time). */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (connect(fd, sa, len) == 0) goto done;
  if (errno != EINPROGRESS) return errno;
  struct pollfd p = {fd, POLLOUT, 0};
  int n = poll(&p, 1, timeout_ms);
  if (n == 0) return ETIMEDOUT;
  if (n < 0) return errno;
  int err = 0;
  socklen_t el = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
  if (err) return err;
done:
  fcntl(fd, F_SETFL, flags);
  return 0;
}

/* Copies stdin → fd and fd → stdout until the connection ends; stdin's end half-closes the connection. */
static int relay(int fd) {
  char buf[65536];
  int in_open = 1;
  for (;;) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(p, in_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return 0;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(1, buf + off, n - off);
        if (w <= 0) return 1;
        off += w;
      }
    }
    if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) {
        in_open = 0;
        shutdown(fd, SHUT_WR);
        continue;
      }
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(fd, buf + off, n - off);
        if (w <= 0) return 1;
        off += w;
      }
    }
  }
}

int main(int argc, char **argv) {
  int probe = argc >= 4 && strcmp(argv[1], "probe") == 0;
  if (argc >= 4 && (strcmp(argv[1], "tcp") == 0 || probe)) {
    char what[300];
    snprintf(what, sizeof what, "%s:%s", argv[2], argv[3]);
    int port = atoi(argv[3]);
    int timeout_ms = argc >= 5 ? atoi(argv[4]) * 1000 : 3000;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (port < 1 || port > 65535) return fail(what, "bad port");
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, argv[2], &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      len = sizeof *v4;
    } else if (inet_pton(AF_INET6, argv[2], &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port);
      len = sizeof *v6;
    } else {
      return fail(what, "not a numeric address");
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return fail(what, strerror(errno));
    int err = connect_within(fd, (struct sockaddr *)&ss, len, timeout_ms);
    if (err) return fail(what, err == ETIMEDOUT ? "Connection timed out" : strerror(err));
    fprintf(stderr, "kc-dial: connected\n");
    if (probe) {
      close(fd);
      return 0;
    }
    return relay(fd);
  }
  if (argc >= 3 && strcmp(argv[1], "unix") == 0) {
    struct sockaddr_un su;
    memset(&su, 0, sizeof su);
    su.sun_family = AF_UNIX;
    if (strlen(argv[2]) >= sizeof su.sun_path) return fail(argv[2], "path too long");
    strcpy(su.sun_path, argv[2]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return fail(argv[2], strerror(errno));
    int err = connect_within(fd, (struct sockaddr *)&su, sizeof su, 3000);
    if (err) return fail(argv[2], strerror(err));
    fprintf(stderr, "kc-dial: connected\n");
    return relay(fd);
  }
  fprintf(stderr, "usage: kc-dial tcp|probe ADDRESS PORT [TIMEOUT_SECONDS] | kc-dial unix PATH\n");
  return 2;
}
