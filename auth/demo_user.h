/* demo_user.h: the account `portcullis demo` registers (demo/demo.h,
 * DEMO_DEFAULT_USER) logs in with a password printed for everyone to see,
 * so it must not outlive the demo: outside demo mode its name can neither
 * register nor log in, and the server removes it when a demo-mode run ends
 * and when it starts outside demo mode (a leftover). */
#ifndef PC_AUTH_DEMO_USER_H
#define PC_AUTH_DEMO_USER_H

#include "auth/auth.h"

#define AUTH_DEMO_USER "demo-eavesdrop"

/* 1 when name is the demo's and the server is not in demo mode. */
int auth_demo_user_reserved(const struct auth_settings *set, const char *name);

/* Deletes the demo's account from cfg's database if it exists (audited as
 * demo_user_removed, never the last enabled admin); logs what it did.
 * Opens its own connection: call at start or at shutdown. */
void auth_demo_user_remove(const struct auth_settings *set);

#endif
