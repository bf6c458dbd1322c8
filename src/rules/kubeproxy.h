/* kubeproxy: renders N ClusterIP Services (one TCP port, E endpoints each)
 * the way kube-proxy writes them, as text a loader takes in one transaction:
 *   - iptables mode: iptables-restore input for filter and nat, as
 *     kube-proxy's syncProxyRules writes it (KUBE-SERVICES, KUBE-SVC-<hash>
 *     with KUBE-MARK-MASQ and `-m statistic` per endpoint, KUBE-SEP-<hash>
 *     with DNAT, KUBE-POSTROUTING, the filter chains), preceded by the jumps
 *     from INPUT/FORWARD/OUTPUT/PREROUTING/POSTROUTING in the order its
 *     EnsureRule(Prepend) calls leave them. More than 1000 endpoints switch
 *     to kube-proxy's "large cluster mode" (no comments on SVC/SEP rules).
 *   - nftables mode: `table ip kube-proxy` as nft commands, as kube-proxy's
 *     nftables proxier builds it: base chains at its hooks and priorities,
 *     the service-ips verdict map on `ip daddr . meta l4proto . th dport`,
 *     service-<hash>-ns/name/tcp/port chains with `numgen random mod E vmap`,
 *     endpoint-<hash>-... chains with `dnat to`, masquerading, cluster-ips.
 * Chain names are hashed as kube-proxy hashes them (sha256, base32).
 * Owns nothing in the kernel: loading the text is the caller's (rules/,
 * experiments/). Pure: no kernel, no I/O.
 *
 * Every Service but the measured one is never matched by test traffic: its
 * ClusterIP and endpoints come from 240.0.0.0/4 (kp_service_ip). The measured
 * Service (first, middle or last of the N in KUBE-SERVICES) has the
 * endpoints the caller gives (a real server), so its connections arrive. */
#ifndef NFCOST_KUBEPROXY_H
#define NFCOST_KUBEPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/util.h"

enum kp_mode { KP_IPTABLES, KP_NFT };
enum kp_position { KP_FIRST, KP_MIDDLE, KP_LAST };

#define KP_MAX_SERVICES 1000000L
#define KP_MAX_ENDPOINTS 64
#define KP_DEFAULT_ENDPOINTS 2
/* kube-proxy's largeClusterEndpointsThreshold. */
#define KP_LARGE_CLUSTER_ENDPOINTS 1000
#define KP_NAMESPACE "nfcost"
#define KP_PORT_NAME "http"

struct kp_endpoint {
	uint32_t addr; /* host byte order */
	uint16_t port;
};

struct kp_config {
	long services;              /* N: 0 renders kube-proxy's chains alone */
	int endpoints;              /* E of every Service but the measured one */
	enum kp_position position;  /* of the measured Service */
	uint32_t service_base;      /* ClusterIP of Service 0 (host order) */
	uint32_t endpoint_base;     /* first endpoint address of the others */
	uint16_t service_port;      /* every Service's port */
	uint16_t endpoint_port;     /* the others' endpoints' port */
	uint32_t measured_ip;       /* measured ClusterIP; 0: like the others */
	struct kp_endpoint measured[KP_MAX_ENDPOINTS];
	int n_measured;             /* the measured Service's endpoints */
	char cluster_cidr[32];      /* pods' range: kube-proxy's local-traffic
				     * detector (traffic from elsewhere is
				     * masqueraded) */
	char service_cidr[32];      /* ClusterIP range (nft: unallocated drop) */
	uint32_t node_ip;           /* nft: nodeport-ips (--nodeport-addresses
				     * primary, the nftables mode's default) */
};

struct kp_counts {
	long rules;    /* iptables: -A lines; nft: add rule */
	long chains;   /* user chains declared / added */
	long elements; /* nft set and map elements */
};

/* Defaults: E = 2, last, ClusterIPs from 240.0.0.1, endpoints from
 * 241.0.0.1, port 80 -> 8080, cluster CIDR 10.0.0.0/8, service CIDR
 * 240.0.0.0/12, node 198.18.0.1; no measured endpoint (set one). */
void kp_config_defaults(struct kp_config *c);
bool kp_position_parse(const char *s, enum kp_position *out);
const char *kp_position_name(enum kp_position p);
/* Index of the measured Service among the N (-1 when N is 0). */
long kp_measured_index(const struct kp_config *c);
/* ClusterIP of Service i (the measured one's own when set). */
uint32_t kp_service_ip(const struct kp_config *c, long i);
/* Checks c (EXIT_USAGE errors: endpoints, counts, addresses). */
int kp_config_check(const struct kp_config *c, struct nf_error *err);

/* The whole rule set for c into out (appended). counts may be NULL.
 * iptables: load with one iptables-restore; nft: one nft -f / libnftables
 * transaction, in a namespace without a kube-proxy table. */
int kp_render(const struct kp_config *c, enum kp_mode m, struct buf *out, struct kp_counts *counts,
	      struct nf_error *err);
/* One more Service (index N, endpoints like the others') added the way
 * kube-proxy's partial sync applies it on top of kp_render's rule set:
 * iptables: the restore input it writes (filter, and nat's top-level chains
 * with all of KUBE-SERVICES, plus the new Service's chains only), to load
 * with `iptables-restore --noflush`; nft: the new Service's chains, rules
 * and map elements, one transaction. */
int kp_render_update(const struct kp_config *c, enum kp_mode m, struct buf *out,
		     struct kp_counts *counts, struct nf_error *err);

/* kube-proxy's chain names. iptables: "KUBE-SVC-" (endpoint NULL) or
 * "KUBE-SEP-" and 16 base32 characters of sha256(svcportname + proto
 * [+ "ip:port"]), svcportname being "ns/name:port". */
void kp_iptables_chain(const char *svcportname, const char *proto, const char *endpoint,
		       char *out, size_t len);
/* nft: "service-" (endpoint NULL) or "endpoint-", 8 base32 characters of
 * sha256(base), '-', base; base is "ns/name/proto/port" [+ "__ip/port"]. */
void kp_nft_chain(const char *ns, const char *name, const char *proto, const char *port,
		  const char *endpoint, char *out, size_t len);

#endif
