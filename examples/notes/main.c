/* main.c: the notes example: Portcullis started from its config file, with
 * the notes routes added. Everything Portcullis serves (/api/register,
 * /api/login, /healthz, ...) is there too, so a client logs in on the
 * same server and uses the token on /notes.
 *
 *   notes --notes-db FILE [--config FILE]
 */
#include <stdio.h>
#include <string.h>

#include "routes.h"
#include "server/portcullis.h"
#include "store.h"

static int usage(void)
{
    fputs("usage: notes --notes-db FILE [--config FILE]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *config = NULL, *notes_db = NULL;
    char err[512];
    struct pc_server *s = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--notes-db") == 0 && i + 1 < argc)
            notes_db = argv[++i];
        else
            return usage();
    }
    if (notes_db == NULL)
        return usage();
    if (pc_api_version() != PORTCULLIS_API_VERSION) {
        fprintf(stderr, "notes: built for Portcullis API %d, linked with %d\n",
                PORTCULLIS_API_VERSION, pc_api_version());
        return 1;
    }
    /* Before any thread exists (pc_server_new blocks the signals the server
     * handles, for every thread created later). */
    if (pc_server_new(&s, config, err, sizeof err) != 0) {
        fprintf(stderr, "notes: %s\n", err);
        return 2;
    }
    if (store_open(notes_db, err, sizeof err) != 0) {
        fprintf(stderr, "notes: notes database %s\n", err);
        pc_server_free(s);
        return 1;
    }
    if (notes_add_routes(s) != 0) {
        pc_server_free(s);
        return 1;
    }
    int rc = pc_server_run(s);
    pc_server_free(s);
    return rc == 0 ? 0 : 1;
}
