/* ruleset-tool: drives src/rules/ruleset.c for tests/integration/16-ruleset.sh
 * without the CLI (the `profile` command is written elsewhere):
 *   info FILE|-                         format, digest, counts, chains
 *   host                                the host's rule set (read-only), as info
 *   load NETNS FILE BACKEND             ruleset_load
 *   flush NETNS | empty NETNS           ruleset_flush | exit 0 when empty, 1 if not
 *   chains NETNS FILE BACKEND           ruleset_base_chains after a load
 *   fix NAME FILE SCRATCH OUT [DEV...]  the fixed rule set into OUT (OUT.ipset)
 *   samples FILE MAX                    "proto src dst dport" per sample
 * FILE.ipset, when there, is the rule set's ipset restore text (as fix writes it).
 * Errors: one "nfcost: " line, the exit status ruleset gave (fix: 3 when the
 * fix does not apply). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/ruleset.h"
#include "util/util.h"

static void info(const struct ruleset *rs)
{
	printf("format %s\ndigest %s\ntables %d\nchains %d\nrules %d\nsets %d\n",
	       ruleset_format_name(rs->format), rs->digest, rs->n_tables, rs->n_chains, rs->n_rules,
	       rs->n_sets);
	for (int i = 0; i < rs->n_chain_entries; i++) {
		const struct ruleset_chain *c = &rs->chains[i];
		printf("chain %s %s %s %s %d %d %d\n", c->family, c->table, c->name,
		       c->type[0] ? c->type : "-", c->hook, c->priority, c->rules);
	}
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		nf_err("cannot write %s", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ruleset rs = { 0 };
	struct nf_error err = { 0 };
	char note[1024] = "";
	enum rules_backend b = BACKEND_IPTABLES_NFT;
	int rc;

	if (argc < 2)
		return 2;
	const char *cmd = argv[1];
	if (!strcmp(cmd, "flush") && argc == 3) {
		return ruleset_flush(argv[2], &err) ? nf_error_report(&err) : 0;
	}
	if (!strcmp(cmd, "empty") && argc == 3)
		return ruleset_namespace_empty(argv[2]) ? 0 : 1;
	if (!strcmp(cmd, "host")) {
		if (ruleset_read_host(&rs, note, sizeof(note), &err))
			return nf_error_report(&err);
		printf("note %s\n", note);
		info(&rs);
		ruleset_free(&rs);
		return 0;
	}
	const char *file = !strcmp(cmd, "info") || !strcmp(cmd, "samples") ? argv[2]
			   : !strcmp(cmd, "fix")                             ? argv[3]
									     : argv[3];
	if (argc < 3 || !file)
		return 2;
	if (ruleset_read_file(file, &rs, &err))
		return nf_error_report(&err);
	rc = 0;
	/* A fixed rule set's ipsets come in FILE.ipset, as `fix` writes them. */
	char ipath[4096];
	snprintf(ipath, sizeof(ipath), "%s.ipset", file);
	FILE *ipf = strcmp(file, "-") ? fopen(ipath, "r") : NULL;
	if (ipf) {
		struct buf b = { 0 };
		char chunk[65536];
		size_t k;
		while ((k = fread(chunk, 1, sizeof(chunk), ipf)) > 0)
			buf_append(&b, chunk, k);
		fclose(ipf);
		rs.ipset_text = b.data;
	}
	if (!strcmp(cmd, "info")) {
		info(&rs);
	} else if (!strcmp(cmd, "samples") && argc == 4) {
		struct ruleset_sample *s;
		size_t n;
		ruleset_samples(&rs, &s, &n, strtoul(argv[3], NULL, 10));
		for (size_t i = 0; i < n; i++)
			printf("%d %s %s %u\n", s[i].proto, s[i].src[0] ? s[i].src : "-",
			       s[i].dst[0] ? s[i].dst : "-", s[i].dport);
		free(s);
	} else if ((!strcmp(cmd, "load") || !strcmp(cmd, "chains")) && argc == 5) {
		if (!rules_backend_parse(argv[4], &b))
			return 2;
		if (ruleset_load(argv[2], &rs, b, &err)) {
			rc = nf_error_report(&err);
		} else if (!strcmp(cmd, "chains")) {
			struct ruleset_chain *c;
			int n;
			if (ruleset_base_chains(argv[2], &rs, b, &c, &n, &err))
				rc = nf_error_report(&err);
			for (int i = 0; !rc && i < n; i++)
				printf("%d %d %s %s %s %d\n", c[i].hook, c[i].priority, c[i].family,
				       c[i].table, c[i].name, c[i].rules);
			if (!rc)
				free(c);
		}
	} else if (!strcmp(cmd, "fix") && argc >= 6) {
		enum ruleset_fix f;
		struct ruleset fixed;
		if (!ruleset_fix_parse(argv[2], &f))
			return 2;
		rc = ruleset_fix(&rs, f, argv[4], (const char *const *)argv + 6, argc - 6, &fixed,
				 note, sizeof(note), &err);
		if (rc == 1) {
			printf("note %s\n", note);
			rc = 3;
		} else if (rc) {
			rc = nf_error_report(&err);
		} else {
			char path[4096];
			printf("note %s\n", note);
			info(&fixed);
			rc = write_file(argv[5], fixed.text);
			snprintf(path, sizeof(path), "%s.ipset", argv[5]);
			if (!rc && fixed.ipset_text)
				rc = write_file(path, fixed.ipset_text);
			ruleset_free(&fixed);
		}
	} else {
		rc = 2;
	}
	ruleset_free(&rs);
	return rc;
}
