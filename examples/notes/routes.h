/* routes.h: the notes API on the public Portcullis API:
 *   POST   /notes      {"title", "body"}  -> 201 the note
 *   GET    /notes                         -> 200 {"notes": [...]}
 *   GET    /notes/:id                     -> 200 the note
 *   DELETE /notes/:id                     -> 204
 * Every route needs a token; a user sees only their own notes (another
 * user's id is a 404, exactly like an id that does not exist). */
#ifndef NOTES_ROUTES_H
#define NOTES_ROUTES_H

#include "server/portcullis.h"

/* Adds the four routes. 0 or -1. */
int notes_add_routes(struct pc_server *s);

#endif
