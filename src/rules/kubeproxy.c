/* kubeproxy: see kubeproxy.h. The layouts follow kube-proxy's writers
 * (pkg/proxy/iptables/proxier.go, pkg/proxy/nftables/proxier.go) and the
 * rule sets their tests expect, for ClusterIP Services with Cluster traffic
 * policy and no session affinity, kube-proxy's defaults otherwise
 * (masquerade bit 14, --random-fully, localhost NodePorts and conntrack's
 * INVALID drop in iptables mode; --nodeport-addresses primary in nftables
 * mode). Two first-sync details are left out because a fresh namespace
 * makes them no-ops: the nftables proxier's add+delete of its base chains
 * and its flush of chains, sets and maps it has just added. */
#include "rules/kubeproxy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules/sha256.h"

#define MASQ_MARK "0x4000"
#define NFT_TABLE "ip kube-proxy"

static uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)a << 24 | b << 16 | c << 8 | d;
}

static void ip_text(uint32_t a, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

void kp_config_defaults(struct kp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->endpoints = KP_DEFAULT_ENDPOINTS;
	c->position = KP_LAST;
	c->service_base = ip4(240, 0, 0, 1);
	c->endpoint_base = ip4(241, 0, 0, 1);
	c->service_port = 80;
	c->endpoint_port = 8080;
	snprintf(c->cluster_cidr, sizeof(c->cluster_cidr), "10.0.0.0/8");
	snprintf(c->service_cidr, sizeof(c->service_cidr), "240.0.0.0/12");
	c->node_ip = ip4(198, 18, 0, 1);
}

static const char *const position_names[] = { "first", "middle", "last" };

bool kp_position_parse(const char *s, enum kp_position *out)
{
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, position_names[i])) {
			*out = (enum kp_position)i;
			return true;
		}
	return false;
}

const char *kp_position_name(enum kp_position p)
{
	return p <= KP_LAST ? position_names[p] : "?";
}

long kp_measured_index(const struct kp_config *c)
{
	if (c->services <= 0)
		return -1;
	return c->position == KP_FIRST ? 0 : c->position == KP_MIDDLE ? c->services / 2 : c->services - 1;
}

uint32_t kp_service_ip(const struct kp_config *c, long i)
{
	if (i == kp_measured_index(c) && c->measured_ip)
		return c->measured_ip;
	return c->service_base + (uint32_t)i;
}

int kp_config_check(const struct kp_config *c, struct nf_error *err)
{
	if (c->services < 0 || c->services > KP_MAX_SERVICES)
		return nf_fail(err, EXIT_USAGE, "the number of Services must be 0..%ld", KP_MAX_SERVICES);
	if (c->endpoints < 1 || c->endpoints > KP_MAX_ENDPOINTS)
		return nf_fail(err, EXIT_USAGE, "--endpoints must be 1..%d", KP_MAX_ENDPOINTS);
	if (c->services > 0 && (c->n_measured < 1 || c->n_measured > KP_MAX_ENDPOINTS))
		return nf_fail(err, EXIT_USAGE,
			       "the measured Service needs 1..%d endpoints (the server's address and port)",
			       KP_MAX_ENDPOINTS);
	if (!c->service_port || !c->endpoint_port)
		return nf_fail(err, EXIT_USAGE, "Service and endpoint ports must be 1..65535");
	/* Addresses must not wrap past 255.255.255.255 for the largest N
	 * (plus the one kp_render_update adds). */
	uint64_t last_ep = (uint64_t)c->endpoint_base + (uint64_t)(c->services + 1) * (uint64_t)c->endpoints;
	if ((uint64_t)c->service_base + (uint64_t)c->services + 1 > UINT32_MAX || last_ep > UINT32_MAX)
		return nf_fail(err, EXIT_USAGE, "too many Services for the address ranges chosen");
	if (!c->cluster_cidr[0] || !c->service_cidr[0])
		return nf_fail(err, EXIT_USAGE, "the cluster and service CIDRs must be set");
	for (int i = 0; i < c->n_measured; i++)
		if (!c->measured[i].addr || !c->measured[i].port)
			return nf_fail(err, EXIT_USAGE, "a measured endpoint needs an address and a port");
	return 0;
}

/* --- names --- */

static void hash_b32(const char *text, char *out, size_t chars)
{
	uint8_t md[SHA256_LEN];
	char b32[64];

	sha256(text, strlen(text), md);
	base32_encode(md, sizeof(md), b32, sizeof(b32));
	snprintf(out, chars + 1, "%s", b32);
}

void kp_iptables_chain(const char *svcportname, const char *proto, const char *endpoint,
		       char *out, size_t len)
{
	char text[512], h[17];

	snprintf(text, sizeof(text), "%s%s%s", svcportname, proto, endpoint ? endpoint : "");
	hash_b32(text, h, 16);
	snprintf(out, len, "%s%s", endpoint ? "KUBE-SEP-" : "KUBE-SVC-", h);
}

void kp_nft_chain(const char *ns, const char *name, const char *proto, const char *port,
		  const char *endpoint, char *out, size_t len)
{
	char base[512], h[9];

	if (endpoint)
		snprintf(base, sizeof(base), "%s/%s/%s/%s__%s", ns, name, proto, port, endpoint);
	else
		snprintf(base, sizeof(base), "%s/%s/%s/%s", ns, name, proto, port);
	hash_b32(base, h, 8);
	snprintf(out, len, "%s%s-%s", endpoint ? "endpoint-" : "service-", h, base);
}

/* One Service as the renderers need it. */
struct svc {
	char name[32];       /* "svc-12" or "measured" */
	char portname[80];   /* kube-proxy's ServicePortName: "nfcost/svc-12:http" */
	char ip[16];
	int n_ep;
	char ep_ip[KP_MAX_ENDPOINTS][16];
	char ep[KP_MAX_ENDPOINTS][24]; /* "ip:port", kube-proxy's endpoint string */
	char ep_slash[KP_MAX_ENDPOINTS][24]; /* "ip/port", for nft names */
};

static void service_at(const struct kp_config *c, long i, struct svc *s)
{
	bool measured = i == kp_measured_index(c);

	if (measured)
		snprintf(s->name, sizeof(s->name), "measured");
	else
		snprintf(s->name, sizeof(s->name), "svc-%ld", i);
	snprintf(s->portname, sizeof(s->portname), "%s/%s:%s", KP_NAMESPACE, s->name, KP_PORT_NAME);
	ip_text(kp_service_ip(c, i), s->ip);
	s->n_ep = measured ? c->n_measured : c->endpoints;
	for (int j = 0; j < s->n_ep; j++) {
		uint32_t a = measured ? c->measured[j].addr
				      : c->endpoint_base + (uint32_t)(i * c->endpoints + j);
		unsigned port = measured ? c->measured[j].port : c->endpoint_port;
		char ip[16];
		ip_text(a, ip);
		memcpy(s->ep_ip[j], ip, sizeof(ip));
		snprintf(s->ep[j], sizeof(s->ep[j]), "%s:%u", ip, port);
		snprintf(s->ep_slash[j], sizeof(s->ep_slash[j]), "%s/%u", ip, port);
	}
}

/* Endpoints of the whole rule set, for kube-proxy's large cluster mode. */
static long total_endpoints(const struct kp_config *c, long services)
{
	if (services <= 0)
		return 0;
	long others = services - (c->services > 0 ? 1 : 0);
	return others * c->endpoints + (c->services > 0 ? c->n_measured : 0);
}

/* --- iptables --- */

struct ipt_out {
	struct buf chains, rules;
	struct kp_counts *n;
};

static void ipt_chain(struct ipt_out *o, const char *name)
{
	buf_printf(&o->chains, ":%s - [0:0]\n", name);
	o->n->chains++;
}

static void __attribute__((format(printf, 2, 3))) ipt_rule(struct ipt_out *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_printf(&o->rules, "-A %s\n", line);
	o->n->rules++;
}

/* The jumps kube-proxy's EnsureRule(Prepend) calls leave in the built-in
 * chains, in their final order (the last one prepended comes first). */
static const char *const filter_jumps[] = {
	"INPUT -j KUBE-FIREWALL",
	"INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL",
	"INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS",
	"INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES",
	"FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL",
	"FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD",
	"FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
	"FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES",
	"OUTPUT -j KUBE-FIREWALL",
	"OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL",
	"OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
};
static const char *const nat_jumps[] = {
	"OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
	"PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
	"POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
};

static void ipt_flush_into(struct buf *out, struct ipt_out *o)
{
	if (o->chains.len)
		buf_append(out, o->chains.data, o->chains.len);
	if (o->rules.len)
		buf_append(out, o->rules.data, o->rules.len);
	buf_printf(out, "COMMIT\n");
	buf_free(&o->chains);
	buf_free(&o->rules);
}

/* filter: the same in a full and a partial sync (kube-proxy rewrites it
 * whole each time); the jumps only where kube-proxy ensures them (full). */
static void ipt_filter(struct buf *out, struct kp_counts *n, bool jumps)
{
	static const char *const chains[] = { "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD",
					       "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL", "KUBE-FIREWALL" };
	struct ipt_out o = { .n = n };

	buf_printf(out, "*filter\n");
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++)
		ipt_chain(&o, chains[i]);
	for (size_t i = 0; jumps && i < sizeof(filter_jumps) / sizeof(filter_jumps[0]); i++)
		ipt_rule(&o, "%s", filter_jumps[i]);
	ipt_rule(&o, "KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" "
		     "-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP");
	ipt_rule(&o, "KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP");
	ipt_rule(&o, "KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" "
		     "-m mark --mark " MASQ_MARK "/" MASQ_MARK " -j ACCEPT");
	ipt_rule(&o, "KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" "
		     "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
	ipt_flush_into(out, &o);
}

/* A Service's KUBE-SVC and KUBE-SEP chains and rules. */
static void ipt_service_chains(struct ipt_out *o, const struct kp_config *c, const struct svc *s,
			       bool large)
{
	char svc_chain[32], sep[KP_MAX_ENDPOINTS][32], comment[160];

	kp_iptables_chain(s->portname, "tcp", NULL, svc_chain, sizeof(svc_chain));
	ipt_chain(o, svc_chain);
	for (int j = 0; j < s->n_ep; j++) {
		kp_iptables_chain(s->portname, "tcp", s->ep[j], sep[j], sizeof(sep[j]));
		ipt_chain(o, sep[j]);
	}
	ipt_rule(o, "%s -m comment --comment \"%s cluster IP\" -m tcp -p tcp -d %s --dport %u ! -s %s -j KUBE-MARK-MASQ",
		 svc_chain, s->portname, s->ip, c->service_port, c->cluster_cidr);
	for (int j = 0; j < s->n_ep; j++) {
		char prob[64] = "";
		comment[0] = '\0';
		if (!large)
			snprintf(comment, sizeof(comment), " -m comment --comment \"%s -> %s\"", s->portname, s->ep[j]);
		if (j < s->n_ep - 1)
			snprintf(prob, sizeof(prob), " -m statistic --mode random --probability %0.10f",
				 1.0 / (double)(s->n_ep - j));
		ipt_rule(o, "%s%s%s -j %s", svc_chain, comment, prob, sep[j]);
	}
	for (int j = 0; j < s->n_ep; j++) {
		comment[0] = '\0';
		if (!large)
			snprintf(comment, sizeof(comment), " -m comment --comment %s", s->portname);
		ipt_rule(o, "%s%s -s %s -j KUBE-MARK-MASQ", sep[j], comment, s->ep_ip[j]);
		ipt_rule(o, "%s%s -m tcp -p tcp -j DNAT --to-destination %s", sep[j], comment, s->ep[j]);
	}
}

/* nat for Services [0, services): all of KUBE-SERVICES; the SVC/SEP chains
 * of those from chains_from on (a partial sync writes only the new one's). */
static void ipt_nat(struct buf *out, const struct kp_config *c, long services, long chains_from,
		    bool jumps, struct kp_counts *n)
{
	static const char *const chains[] = { "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING",
					       "KUBE-MARK-MASQ" };
	bool large = total_endpoints(c, services) > KP_LARGE_CLUSTER_ENDPOINTS;
	struct ipt_out o = { .n = n };
	struct svc s;

	buf_printf(out, "*nat\n");
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++)
		ipt_chain(&o, chains[i]);
	for (size_t i = 0; jumps && i < sizeof(nat_jumps) / sizeof(nat_jumps[0]); i++)
		ipt_rule(&o, "%s", nat_jumps[i]);
	ipt_rule(&o, "KUBE-POSTROUTING -m mark ! --mark " MASQ_MARK "/" MASQ_MARK " -j RETURN");
	ipt_rule(&o, "KUBE-POSTROUTING -j MARK --xor-mark " MASQ_MARK);
	ipt_rule(&o, "KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" "
		     "-j MASQUERADE --random-fully");
	ipt_rule(&o, "KUBE-MARK-MASQ -j MARK --or-mark " MASQ_MARK);
	for (long i = 0; i < services; i++) {
		char svc_chain[32];
		service_at(c, i, &s);
		kp_iptables_chain(s.portname, "tcp", NULL, svc_chain, sizeof(svc_chain));
		ipt_rule(&o, "KUBE-SERVICES -m comment --comment \"%s cluster IP\" -m tcp -p tcp -d %s --dport %u -j %s",
			 s.portname, s.ip, c->service_port, svc_chain);
		if (i >= chains_from)
			ipt_service_chains(&o, c, &s, large);
	}
	ipt_rule(&o, "KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be "
		     "the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS");
	ipt_flush_into(out, &o);
}

/* --- nftables --- */

static void __attribute__((format(printf, 3, 4))) nft_cmd(struct buf *out, long *count, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_printf(out, "%s\n", line);
	if (count)
		(*count)++;
}

static void nft_base_objects(struct buf *out, struct kp_counts *n)
{
	static const char *const vmap = "ipv4_addr . inet_proto . inet_service : verdict";

	nft_cmd(out, NULL, "add table " NFT_TABLE " { comment \"rules for kube-proxy\" ; }");
	nft_cmd(out, NULL, "add set " NFT_TABLE " cluster-ips { type ipv4_addr ; comment \"Active ClusterIPs\" ; }");
	nft_cmd(out, NULL, "add set " NFT_TABLE " nodeport-ips { type ipv4_addr ; comment \"IPs that accept NodePort traffic\" ; }");
	nft_cmd(out, NULL, "add map " NFT_TABLE " firewall-ips { type %s ; comment \"destinations that are subject to LoadBalancerSourceRanges\" ; }", vmap);
	nft_cmd(out, NULL, "add map " NFT_TABLE " no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment \"vmap to drop or reject packets to service nodeports with no endpoints\" ; }");
	nft_cmd(out, NULL, "add map " NFT_TABLE " no-endpoint-services { type %s ; comment \"vmap to drop or reject packets to services with no endpoints\" ; }", vmap);
	nft_cmd(out, NULL, "add map " NFT_TABLE " service-ips { type %s ; comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }", vmap);
	nft_cmd(out, NULL, "add map " NFT_TABLE " service-nodeports { type inet_proto . inet_service : verdict ; comment \"NodePort traffic\" ; }");

	/* Filter chains run before DNAT (-110) where they must see the
	 * ClusterIP, at filter priority (0) where they must see the endpoint. */
	static const char *const chains[] = {
		"cluster-ips-check",
		"filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }",
		"filter-output-pre-dnat { type filter hook output priority -110 ; }",
		"filter-forward { type filter hook forward priority 0 ; }",
		"filter-input { type filter hook input priority 0 ; }",
		"filter-output { type filter hook output priority 0 ; }",
		"firewall-check",
		"mark-for-masquerade",
		"masquerading",
		"nat-output { type nat hook output priority -100 ; }",
		"nat-postrouting { type nat hook postrouting priority 100 ; }",
		"nat-prerouting { type nat hook prerouting priority -100 ; }",
		"nodeport-endpoints-check",
		"reject-chain { comment \"helper for @no-endpoint-services / @no-endpoint-nodeports\" ; }",
		"services",
		"service-endpoints-check",
	};
	for (size_t i = 0; i < sizeof(chains) / sizeof(chains[0]); i++)
		nft_cmd(out, &n->chains, "add chain " NFT_TABLE " %s", chains[i]);
}

static void nft_base_rules(struct buf *out, const struct kp_config *c, struct kp_counts *n)
{
	static const char *const rules[] = {
		"cluster-ips-check ip daddr @cluster-ips reject comment \"Reject traffic to invalid ports of ClusterIPs\"",
		NULL, /* the unallocated-ClusterIP drop, with the service CIDR */
		"filter-prerouting-pre-dnat ct state new jump firewall-check",
		"filter-forward ct state new jump service-endpoints-check",
		"filter-forward ct state new jump cluster-ips-check",
		"filter-input ct state new jump nodeport-endpoints-check",
		"filter-input ct state new jump service-endpoints-check",
		"filter-output ct state new jump service-endpoints-check",
		"filter-output-pre-dnat ct state new jump firewall-check",
		"filter-output ct state new jump cluster-ips-check",
		"firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips",
		"mark-for-masquerade mark set mark or " MASQ_MARK,
		"masquerading mark and " MASQ_MARK " == 0 return",
		"masquerading mark set mark xor " MASQ_MARK,
		"masquerading masquerade fully-random",
		"nat-output jump services",
		"nat-postrouting jump masquerading",
		"nat-prerouting jump services",
		"nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports",
		"reject-chain reject",
		"services ip daddr . meta l4proto . th dport vmap @service-ips",
		"services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
		"service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
	};
	char node[16];

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i])
			nft_cmd(out, &n->rules, "add rule " NFT_TABLE " %s", rules[i]);
		else
			nft_cmd(out, &n->rules, "add rule " NFT_TABLE " cluster-ips-check ip daddr { %s } drop "
				"comment \"Drop traffic to unallocated ClusterIPs\"", c->service_cidr);
	}
	ip_text(c->node_ip, node);
	nft_cmd(out, &n->elements, "add element " NFT_TABLE " nodeport-ips { %s }", node);
}

/* One Service's chains, rules and elements, in the order of kube-proxy's
 * transaction: endpoint chains, the service chain, elements, rules. flush:
 * a partial sync's ensureChain (add, then flush). */
static void nft_service(struct buf *out, const struct kp_config *c, const struct svc *s, bool flush,
			struct kp_counts *n)
{
	char chain[320], ep[KP_MAX_ENDPOINTS][320], port[8];
	struct buf vmap = { 0 };

	snprintf(port, sizeof(port), "%s", KP_PORT_NAME);
	kp_nft_chain(KP_NAMESPACE, s->name, "tcp", port, NULL, chain, sizeof(chain));
	for (int j = 0; j < s->n_ep; j++) {
		kp_nft_chain(KP_NAMESPACE, s->name, "tcp", port, s->ep_slash[j], ep[j], sizeof(ep[j]));
		nft_cmd(out, &n->chains, "add chain " NFT_TABLE " %s", ep[j]);
		if (flush)
			nft_cmd(out, NULL, "flush chain " NFT_TABLE " %s", ep[j]);
	}
	nft_cmd(out, &n->chains, "add chain " NFT_TABLE " %s", chain);
	if (flush)
		nft_cmd(out, NULL, "flush chain " NFT_TABLE " %s", chain);
	nft_cmd(out, &n->elements, "add element " NFT_TABLE " cluster-ips { %s }", s->ip);
	nft_cmd(out, &n->elements, "add element " NFT_TABLE " service-ips { %s . tcp . %u : goto %s }", s->ip,
		c->service_port, chain);
	nft_cmd(out, &n->rules, "add rule " NFT_TABLE " %s ip daddr %s ip saddr != %s jump mark-for-masquerade",
		chain, s->ip, c->cluster_cidr);
	for (int j = 0; j < s->n_ep; j++)
		buf_printf(&vmap, "%s%d : goto %s", j ? " , " : "", j, ep[j]);
	buf_printf(out, "add rule " NFT_TABLE " %s numgen random mod %d vmap { %s }\n", chain, s->n_ep, vmap.data);
	n->rules++;
	buf_free(&vmap);
	for (int j = 0; j < s->n_ep; j++) {
		nft_cmd(out, &n->rules, "add rule " NFT_TABLE " %s ip saddr %s jump mark-for-masquerade", ep[j],
			s->ep_ip[j]);
		nft_cmd(out, &n->rules, "add rule " NFT_TABLE " %s meta l4proto tcp dnat to %s", ep[j], s->ep[j]);
	}
}

/* --- entry points --- */

int kp_render(const struct kp_config *c, enum kp_mode m, struct buf *out, struct kp_counts *counts,
	      struct nf_error *err)
{
	struct kp_counts local = { 0 }, *n = counts ? counts : &local;
	struct svc s;

	memset(n, 0, sizeof(*n));
	if (kp_config_check(c, err))
		return -1;
	if (m == KP_IPTABLES) {
		ipt_filter(out, n, true);
		ipt_nat(out, c, c->services, 0, true, n);
		return 0;
	}
	nft_base_objects(out, n);
	nft_base_rules(out, c, n);
	for (long i = 0; i < c->services; i++) {
		service_at(c, i, &s);
		nft_service(out, c, &s, false, n);
	}
	return 0;
}

int kp_render_update(const struct kp_config *c, enum kp_mode m, struct buf *out,
		     struct kp_counts *counts, struct nf_error *err)
{
	struct kp_counts local = { 0 }, *n = counts ? counts : &local;
	struct svc s;

	memset(n, 0, sizeof(*n));
	if (kp_config_check(c, err))
		return -1;
	if (m == KP_IPTABLES) {
		ipt_filter(out, n, false);
		ipt_nat(out, c, c->services + 1, c->services, false, n);
		return 0;
	}
	service_at(c, c->services, &s);
	nft_service(out, c, &s, true, n);
	return 0;
}
