#ifndef CELISTRA_NETWORK_NAMESPACE_H
#define CELISTRA_NETWORK_NAMESPACE_H

/*
 * In a fresh network namespace only `lo` exists, and it is down. Bring it up so the
 * command can still talk to servers it starts itself; nothing outside is reachable.
 */
void bring_loopback_up(void);

#endif
