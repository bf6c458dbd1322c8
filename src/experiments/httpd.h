/* httpd: watch's small HTTP server (libmicrohttpd, one internal thread):
 * GET /metrics answers the text last published, GET / a short page with the
 * version and a link; anything else is 404, 405 or 413 (no request body
 * is ever read). A connection limit, a per-connection timeout and a small
 * per-connection memory limit keep a slow or hostile client from holding
 * it. It lives in experiments/, not results/, because it does socket I/O;
 * it knows nothing of metrics: it serves whatever text it is handed. */
#ifndef NFCOST_HTTPD_H
#define NFCOST_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define HTTPD_CONNECTIONS 32      /* at once; more wait in the kernel's backlog */
#define HTTPD_TIMEOUT_S 10        /* an idle or slow connection is closed after this */

struct httpd;

/* Parses "ADDR:PORT" ("127.0.0.1:10412", "[::1]:10412", "0.0.0.0:80").
 * 0, or -1 with err (EXIT_USAGE). */
int httpd_parse_listen(const char *spec, char *addr, size_t addr_len, uint16_t *port,
		       struct nf_error *err);
/* Starts serving on addr:port; title: the / page's one line of text.
 * 0 and *out, or -1 with err (EXIT_RUNTIME: the address is taken...). */
int httpd_start(const char *addr, uint16_t port, const char *title, struct httpd **out,
		struct nf_error *err);
/* What GET /metrics answers from now on (copied). */
void httpd_publish(struct httpd *h, const char *text, size_t len);
/* Requests answered so far (any status). */
uint64_t httpd_requests(struct httpd *h);
/* Stops the thread and closes every connection. NULL is fine. */
void httpd_stop(struct httpd *h);

#endif
