#include "util/nfhook.h"

#include <stddef.h>
#include <strings.h>

static const char *const names[NFHOOK_COUNT + 1] = {
	"PRE_ROUTING", "LOCAL_IN", "FORWARD", "LOCAL_OUT", "POST_ROUTING", "ALL"
};
static const char *const options[NFHOOK_COUNT] = {
	"prerouting", "input", "forward", "output", "postrouting"
};
static const char *const chains[NFHOOK_COUNT] = {
	"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"
};

bool nfhook_parse(const char *s, enum nfhook *out)
{
	static const struct {
		const char *name;
		enum nfhook hook;
	} alias[] = {
		{ "pre_routing", NFHOOK_PRE_ROUTING }, { "local_in", NFHOOK_LOCAL_IN },
		{ "local_out", NFHOOK_LOCAL_OUT }, { "post_routing", NFHOOK_POST_ROUTING },
		{ "all", NFHOOK_ALL },
	};

	for (int h = 0; h < NFHOOK_COUNT; h++)
		if (!strcasecmp(s, options[h])) {
			*out = (enum nfhook)h;
			return true;
		}
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcasecmp(s, alias[i].name)) {
			*out = alias[i].hook;
			return true;
		}
	return false;
}

const char *nfhook_name(enum nfhook h)
{
	return (unsigned)h <= NFHOOK_COUNT ? names[h] : "?";
}

const char *nfhook_option(enum nfhook h)
{
	return (unsigned)h < NFHOOK_COUNT ? options[h] : "?";
}

const char *nfhook_chain(enum nfhook h)
{
	return (unsigned)h < NFHOOK_COUNT ? chains[h] : "?";
}

bool nfhook_fillable(enum nfhook h)
{
	return h == NFHOOK_LOCAL_OUT || h == NFHOOK_LOCAL_IN || h == NFHOOK_FORWARD;
}
