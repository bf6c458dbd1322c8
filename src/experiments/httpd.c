/* httpd: see httpd.h. libmicrohttpd answers from its own thread; the text
 * it serves is swapped under a mutex by the watch loop and copied into each
 * response, so a scrape never sees half an exposition. */
#include "experiments/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct httpd {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock;
	char *text;           /* the published /metrics body */
	size_t len;
	char index[1024];     /* the / page */
	atomic_uint_fast64_t requests;
};

int httpd_parse_listen(const char *spec, char *addr, size_t addr_len, uint16_t *port,
		       struct nf_error *err)
{
	const char *colon, *host = spec;
	size_t host_len;
	long p;

	if (spec[0] == '[') { /* [v6]:port */
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return nf_fail(err, EXIT_USAGE, "--listen '%s': write an IPv6 address "
				       "as [ADDR]:PORT", spec);
		host = spec + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		if (!(colon = strrchr(spec, ':')))
			return nf_fail(err, EXIT_USAGE, "--listen takes ADDR:PORT (such as "
				       "127.0.0.1:10412), got '%s'", spec);
		host_len = (size_t)(colon - spec);
	}
	if (host_len == 0 || host_len >= addr_len)
		return nf_fail(err, EXIT_USAGE, "--listen '%s': no address before the port", spec);
	memcpy(addr, host, host_len);
	addr[host_len] = '\0';
	if (!parse_long(colon + 1, 1, 65535, &p))
		return nf_fail(err, EXIT_USAGE, "--listen '%s': the port must be 1 to 65535", spec);
	*port = (uint16_t)p;
	struct in6_addr a6;
	struct in_addr a4;
	if (inet_pton(AF_INET, addr, &a4) != 1 && inet_pton(AF_INET6, addr, &a6) != 1)
		return nf_fail(err, EXIT_USAGE, "--listen '%s': '%s' is not an IPv4 or IPv6 "
			       "address (names are not looked up)", spec, addr);
	return 0;
}

/* Queues a response with body text (copied) and content type. */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned int status, const char *type,
			      const char *text, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned int status,
				   const char *msg)
{
	return answer(c, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* A request that announces a body: none is ever read. */
static int has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL ||
	       (cl && strcmp(cl, "0"));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct httpd *h = cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	atomic_fetch_add(&h->requests, 1);
	if (*upload_data_size || has_body(c)) /* answered before the body is read */
		return answer_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "no request body, please\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (!strcmp(url, "/"))
		return answer(c, MHD_HTTP_OK, "text/html; charset=utf-8", h->index,
			      strlen(h->index));
	if (strcmp(url, "/metrics"))
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	pthread_mutex_lock(&h->lock);
	ret = answer(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		     h->text ? h->text : "", h->text ? h->len : 0);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/* The listening address as a sockaddr (parsed by httpd_parse_listen). */
static int make_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
			 unsigned int *flags)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return -1;
}

/* text with &, <, > and " written as HTML entities, into out. */
static void html_escape(const char *text, char *out, size_t len)
{
	size_t o = 0;

	for (; *text && o + 7 < len; text++) {
		const char *e = *text == '&' ? "&amp;" : *text == '<' ? "&lt;" :
				*text == '>' ? "&gt;" : *text == '"' ? "&quot;" : NULL;
		if (e) {
			memcpy(out + o, e, strlen(e));
			o += strlen(e);
		} else {
			out[o++] = *text;
		}
	}
	out[o] = '\0';
}

int httpd_start(const char *addr, uint16_t port, const char *title, struct httpd **out,
		struct nf_error *err)
{
	unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD;
	struct sockaddr_storage ss;
	struct httpd *h = calloc(1, sizeof(*h));
	sigset_t block, old;

	if (!h)
		return nf_fail(err, EXIT_RUNTIME, "out of memory");
	if (make_sockaddr(addr, port, &ss, &flags)) {
		free(h);
		return nf_fail(err, EXIT_USAGE, "cannot listen on '%s': not an address", addr);
	}
	char safe[512];

	html_escape(title, safe, sizeof(safe));
	pthread_mutex_init(&h->lock, NULL);
	snprintf(h->index, sizeof(h->index),
		 "<!DOCTYPE html>\n<html><head><title>nfcost watch</title></head><body>\n"
		 "<h1>nfcost watch</h1>\n<p>%s</p>\n"
		 "<p><a href=\"/metrics\">Metrics</a></p>\n</body></html>\n", safe);
	/* The server's thread takes no SIGINT/SIGTERM: those must wake the
	 * watch loop's sleep, in the thread that started us. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	errno = 0;
	h->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, h,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				     MHD_OPTION_END);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->daemon) {
		pthread_mutex_destroy(&h->lock);
		free(h);
		return nf_fail(err, EXIT_RUNTIME, "cannot serve on %s port %u: %s (another "
			       "program may have the port: choose one with --listen ADDR:PORT)",
			       addr, (unsigned int)port, e ? strerror(e) : "libmicrohttpd refused");
	}
	*out = h;
	return 0;
}

void httpd_publish(struct httpd *h, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return; /* the previous text stays: stale, never torn */
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&h->lock);
	free(h->text);
	h->text = copy;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
}

uint64_t httpd_requests(struct httpd *h)
{
	return atomic_load(&h->requests);
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}
