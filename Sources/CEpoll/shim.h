// Linux's epoll, for `clerk bench chat`'s load generator (Glibc's Swift module does not include it).
#include <sys/epoll.h>
