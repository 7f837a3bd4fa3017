#include "network-namespace.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper-exit.h"

void bring_loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) helper_fail(HELPER_EXIT_NETWORK, 1, "cannot open a socket to configure lo");
  struct ifreq req;
  memset(&req, 0, sizeof req);
  strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &req) != 0) helper_fail(HELPER_EXIT_NETWORK, 1, "cannot read lo flags");
  req.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &req) != 0) helper_fail(HELPER_EXIT_NETWORK, 1, "cannot bring lo up");
  close(fd);
}
