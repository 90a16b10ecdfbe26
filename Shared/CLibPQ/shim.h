#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
// libpq's headers live in /usr/include/postgresql on Debian; the libpq pkg-config entry puts
// that folder on the include path, so the plain name works on every distribution.
#include <libpq-fe.h>
#endif
