#include "proxy.h"

#include <event2/event.h>

void proxy_link_add(proxy_t *px, proxy_link_t *l)
{
    l->next = px->links.next;
    l->prev = &px->links;
    px->links.next->prev = l;
    px->links.next = l;
    px->nlinks++;
}

void proxy_link_remove(proxy_t *px, proxy_link_t *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
    px->nlinks--;
    if (px->draining && px->nlinks == 0)
        event_base_loopbreak(px->base);
}
