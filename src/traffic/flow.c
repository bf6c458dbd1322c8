#include "traffic/flow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* A host address a testbed namespace may take as its own. */
static bool usable(const char *s, bool as_src, const char **bad)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, s, &a) != 1) {
		*bad = "is not an IPv4 address";
		return false;
	}
	h = ntohl(a.s_addr);
	if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) == 14 || h == 0xffffffffu) {
		*bad = "is not a host's address (0/8, 127/8, multicast, broadcast)";
		return false;
	}
	/* 198.18.0.0/23: the testbed's own links. */
	if ((h & 0xfffffe00u) == 0xc6120000u &&
	    strcmp(s, as_src ? "198.18.0.1" : "198.18.0.2") != 0) {
		*bad = "belongs to the testbed's own links (198.18.0.0/23)";
		return false;
	}
	return true;
}

bool flow_parse(const char *spec, struct flow_spec *f, char *why, size_t whylen)
{
	char buf[128], *fields[4], *gt, *save = NULL;
	const char *bad = NULL, *what;
	int n = 0;
	long v;

	memset(f, 0, sizeof(*f));
	if (!spec || strlen(spec) >= sizeof(buf)) {
		snprintf(why, whylen, "flow is empty or too long");
		return false;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save))
		if (n++ < 4)
			fields[n - 1] = t;
	if (n < 3 || n > 4 || (strcmp(fields[0], "tcp") && strcmp(fields[0], "udp")) ||
	    strchr(spec, ' ') || strstr(spec, "::") || spec[strlen(spec) - 1] == ':') {
		snprintf(why, whylen, "flow '%s' is not PROTO:[SRC>]DST:PORT (tcp:198.18.0.2:443, "
			 "udp:198.18.0.9>240.0.0.1:53:64)", spec);
		return false;
	}
	f->udp = fields[0][0] == 'u';
	if ((gt = strchr(fields[1], '>'))) {
		*gt = '\0';
		what = "source";
		if (!usable(fields[1], true, &bad))
			goto bad_addr;
		snprintf(f->src, sizeof(f->src), "%s", fields[1]);
		fields[1] = gt + 1;
	}
	what = "destination";
	if (!usable(fields[1], false, &bad))
		goto bad_addr;
	snprintf(f->dst, sizeof(f->dst), "%s", fields[1]);
	if (f->src[0] && !strcmp(f->src, f->dst)) {
		snprintf(why, whylen, "flow '%s': source and destination are the same address", spec);
		return false;
	}
	if (!parse_long(fields[2], 1, 65535, &v)) {
		snprintf(why, whylen, "flow '%s': port '%s' is not a number from 1 to 65535", spec,
			 fields[2]);
		return false;
	}
	f->port = (int)v;
	if (n == 4) {
		if (!f->udp) {
			snprintf(why, whylen, "flow '%s': a size is for udp flows only", spec);
			return false;
		}
		if (!parse_long(fields[3], 16, 65507, &v)) {
			snprintf(why, whylen, "flow '%s': size '%s' is not a number of bytes from 16 "
				 "to 65507", spec, fields[3]);
			return false;
		}
		f->size = (int)v;
	} else if (f->udp) {
		f->size = FLOW_DEFAULT_UDP_SIZE;
	}
	if (f->udp)
		snprintf(f->text, sizeof(f->text), "udp:%s%s%s:%d:%d", f->src, f->src[0] ? ">" : "",
			 f->dst, f->port, f->size);
	else
		snprintf(f->text, sizeof(f->text), "tcp:%s%s%s:%d", f->src, f->src[0] ? ">" : "",
			 f->dst, f->port);
	return true;
bad_addr:
	snprintf(why, whylen, "flow '%s': %s address '%s' %s", spec, what, fields[1], bad);
	return false;
}
