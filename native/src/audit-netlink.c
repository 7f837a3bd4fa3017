#define _GNU_SOURCE
#include "audit-netlink.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A burst of denials must fit while the reader's consumer is busy. */
#define READLOG_RCVBUF (4 * 1024 * 1024)
#define MAX_MESSAGE (64 * 1024)

/* Binds `fd` to `self`; on failure closes it and returns -1 with bind's errno. */
static int bound_or_closed(int fd, const struct sockaddr_nl *self) {
  if (bind(fd, (const struct sockaddr *)self, sizeof *self) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int audit_request_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) return -1;
  struct sockaddr_nl self = {.nl_family = AF_NETLINK};
  return bound_or_closed(fd, &self);
}

int audit_readlog_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) return -1;
  int size = READLOG_RCVBUF;
  /* SO_RCVBUFFORCE passes the system cap (we are privileged); fall back to the capped one. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_nl self = {.nl_family = AF_NETLINK, .nl_groups = 1U << (AUDIT_NLGRP_READLOG - 1)};
  return bound_or_closed(fd, &self);
}

static int send_request(int fd, uint16_t type, const void *payload, size_t len) {
  struct {
    struct nlmsghdr h;
    struct audit_status s;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.h.nlmsg_len = NLMSG_LENGTH(len);
  msg.h.nlmsg_type = type;
  msg.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  msg.h.nlmsg_seq = 1;
  if (len > 0) memcpy(NLMSG_DATA(&msg.h), payload, len);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &msg, msg.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -1;
  return 0;
}

/*
 * Reads replies until the kernel's ack. When `status` is given, an AUDIT_GET reply is
 * copied there; the kernel sends the ack first and the status after it, so both are awaited.
 */
static int await_reply(int fd, struct audit_status *status) {
  int acked = 0, got_status = status == NULL;
  char buf[MAX_MESSAGE];
  while (!acked || !got_status) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *err = NLMSG_DATA(h);
        if (err->error != 0) {
          errno = -err->error;
          return -1;
        }
        acked = 1;
      } else if (h->nlmsg_type == AUDIT_GET && status != NULL) {
        size_t len = h->nlmsg_len - NLMSG_HDRLEN;
        memset(status, 0, sizeof *status);
        memcpy(status, NLMSG_DATA(h), len < sizeof *status ? len : sizeof *status);
        got_status = 1;
      }
    }
  }
  return 0;
}

int audit_get_state(int fd, struct audit_state *out) {
  struct audit_status s;
  if (send_request(fd, AUDIT_GET, NULL, 0) != 0 || await_reply(fd, &s) != 0) return -1;
  *out = (struct audit_state){
      .enabled = s.enabled,
      .pid = s.pid,
      .lost = s.lost,
      .backlog = s.backlog,
      .backlog_limit = s.backlog_limit,
      .rate_limit = s.rate_limit,
  };
  return 0;
}

int audit_set_enabled(int fd, uint32_t enabled) {
  struct audit_status s;
  memset(&s, 0, sizeof s);
  s.mask = AUDIT_STATUS_ENABLED;
  s.enabled = enabled;
  if (send_request(fd, AUDIT_SET, &s, sizeof s) != 0) return -1;
  return await_reply(fd, NULL);
}

int audit_next_record(int fd, char *text, size_t cap) {
  char buf[MAX_MESSAGE];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    /* The read log carries one record per datagram. */
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(h, (size_t)n)) continue;
    size_t len = h->nlmsg_len - NLMSG_HDRLEN;
    if (len >= cap) len = cap - 1;
    memcpy(text, NLMSG_DATA(h), len);
    text[len] = '\0';
    return h->nlmsg_type;
  }
}
