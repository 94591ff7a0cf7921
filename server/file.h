/* file.h: the one atomic file writer, for auth/ and the layers above
 * server/ (which may not include tls/ themselves). It is tls/file.h's:
 * tls/ is the lowest layer that writes files (the dev certificates). */
#ifndef PC_SERVER_FILE_H
#define PC_SERVER_FILE_H

#include "tls/file.h"

#endif
